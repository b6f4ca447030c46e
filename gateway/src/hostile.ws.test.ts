import { describeHostileSuites } from '../test/contracts/hostile/index.js';

describeHostileSuites('ws');
