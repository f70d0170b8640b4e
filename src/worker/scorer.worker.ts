// Worker entry: exposes the scorer API to the page over Comlink (the developer methods only
// with WITH_DEV_API).
import * as Comlink from 'comlink';
import { api, productApi, WITH_DEV_API } from './api.ts';

Comlink.expose(WITH_DEV_API ? api : productApi);
