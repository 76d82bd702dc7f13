/** The public face of `demo/` (the demo feeder and its synthetic traffic); other folders import only this file. */
export { DemoFeeder } from './feeder.js';
export { generateTraffic, hashSeed, profileFor, seededRandom } from './traffic.js';
