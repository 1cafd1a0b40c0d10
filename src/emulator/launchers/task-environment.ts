/**
 * The variables Lambda sets for a zip-deployed function's runtime beside the
 * reserved ones (those are src/platform/function-environment.ts): where its
 * code and runtime are, and its search paths.
 *
 * LD_LIBRARY_PATH as AWS's own code sets it for a ZIP artefact
 * (aws-lambda-runtime-interface-emulator,
 * internal/lambda-managed-instances/rapidcore/env/environment.go, which sets
 * LAMBDA_TASK_ROOT and LAMBDA_RUNTIME_DIR for every artefact), PATH as the
 * developer guide's environment variables page gives it
 * (doc_source/configuration-envvars.md); AWS's code and base images put
 * /var/lang/bin, where the managed runtimes keep their language, in front.
 */
export const TASK_ROOT = '/var/task';
export const RUNTIME_DIR = '/var/runtime';
export const LAMBDA_PATH = '/usr/local/bin:/usr/bin/:/bin:/opt/bin';

/** LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR, PATH and LD_LIBRARY_PATH for a runtime whose code and runtime are where these say. */
export function taskVariables(taskRoot: string, runtimeDir: string): Record<string, string> {
  return {
    LAMBDA_TASK_ROOT: taskRoot,
    LAMBDA_RUNTIME_DIR: runtimeDir,
    PATH: LAMBDA_PATH,
    LD_LIBRARY_PATH: `/var/lang/lib:/lib64:/usr/lib64:${runtimeDir}:${runtimeDir}/lib:${taskRoot}:${taskRoot}/lib:/opt/lib`,
  };
}

/**
 * What a function takes from the emulator's own environment: nothing by
 * default, as a Lambda function sees nothing of the machine that deployed
 * it. `true` passes every variable, below the ones the launch sets itself
 * (PATH, LD_LIBRARY_PATH, ...); a list passes the variables it names, over
 * those. Either way the function's own variables and Lambda's reserved ones
 * come on top (the environment adds them). AWS credentials
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) reach a
 * function only this way.
 */
export type InheritEnvironment = boolean | string[];

/** The launch's own variables with what `inherit` takes from `from` merged in, by the rule above. */
export function withInherited(
  own: Record<string, string>,
  inherit: InheritEnvironment | undefined,
  from: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  if (inherit === undefined || inherit === false) return own;
  const picked: Record<string, string> = {};
  for (const name of inherit === true ? Object.keys(from) : inherit) {
    const value = from[name];
    if (value !== undefined) picked[name] = value;
  }
  return inherit === true ? { ...picked, ...own } : { ...own, ...picked };
}
