/**
 * The key of the request an activity serves: the same for every attempt of it, and for every run of a local
 * activity again after its workflow task was lost, within one workflow run; different for any other call. A
 * store write recorded under it happens once (store/attachments.ts `recordIntent`). `undefined` for an
 * activity that no workflow started.
 */
import { Context } from '@temporalio/activity';

export function requestKeyOfCurrentActivity(): string | undefined {
  const { workflowExecution, activityId } = Context.current().info;
  return workflowExecution ? `${workflowExecution.workflowId}/${workflowExecution.runId}/${activityId}` : undefined;
}
