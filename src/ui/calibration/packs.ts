// The pack picker's list after a pack was kept or deleted in this browser (the worker lists served and saved packs).
import { useStore } from '../store.ts';
import { scorer } from '../worker-client.ts';

export async function refreshPackList(): Promise<void> {
  const out = await scorer().listPacks();
  if (out.ok) useStore.setState({ packs: out.value });
}
