// The engine functions the worker calls, gathered so that tests can hand the worker core the real
// engine (or a scripted one) without a Worker.

import { resolveBackend } from '../analysis/backend';
import { comparePrepared, computeCross, computeDynamics, pairDirections } from '../analysis/engine';
import { inferDatapoints, prepare } from '../analysis/prepare';
import type { Engine } from './workerCore';

export const realEngine: Engine = { prepare, comparePrepared, computeDynamics, computeCross, pairDirections, inferDatapoints, resolveBackend };
