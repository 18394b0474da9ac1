// Every workflow the worker registers. Workflow code is sandboxed: only model/ and @temporalio/workflow.
export { installHost } from './install-host';
export { hostNetworks } from './host-networks';
export { hostSetupNetworks } from './host-setup-networks';
