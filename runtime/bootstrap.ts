/**
 * Entry point of a runtime shipped on its own (a layer in /opt): serves the
 * handler that _HANDLER names from LAMBDA_TASK_ROOT.
 */
import { runFromEnvironment } from './index.ts';

void runFromEnvironment();
