// zod builds fast parsers with `new Function` after probing whether eval is allowed; under the
// site's Content-Security-Policy the probe is refused and reported as a violation even though zod
// catches it. Jitless zod never probes. Must run before any schema is built (see zod.ts).
import { config } from 'zod/v4/core';

config({ jitless: true });
