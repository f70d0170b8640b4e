// Worker entry: exposes the scorer API to the page over Comlink.
import * as Comlink from 'comlink';
import { api } from './api.ts';

Comlink.expose(api);
