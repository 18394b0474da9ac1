package org.hostprov.interop;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.ovirt.vdsm.jsonrpc.client.ClientConnectionException;
import org.ovirt.vdsm.jsonrpc.client.JsonRpcClient;
import org.ovirt.vdsm.jsonrpc.client.JsonRpcResponse;
import org.ovirt.vdsm.jsonrpc.client.RequestBuilder;
import org.ovirt.vdsm.jsonrpc.client.ResponseDecomposer;

/**
 * The engine's half of the connectivity check, as ovirt-engine does it while a connectivity-checked
 * setupNetworks is pending (bll network/host/HostSetupNetworksCommand.invokeSetupNetworksCommand with
 * HostPoller; vdsbroker PollVDSCommand and JsonRpcVdsServer.timeBoundPollConfirmConnectivity): until the
 * setupNetworks future is done, send {@code Host.confirmConnectivity}, wait at most 2 s for its answer (then
 * forget the call, as FutureMap does on a timeout), and let at least 500 ms pass between the end of one
 * poll and the start of the next. A poll that fails or times out is not an error: the network is expected
 * to drop while the host changes it.
 */
final class ConnectivityPoller {
    private static final long POLLING_BREAK_MS = 500;
    private static final long POLL_TIMEOUT_MS = 2_000;

    private final JsonRpcClient client;
    private int sent;
    private int confirmed;

    ConnectivityPoller(JsonRpcClient client) {
        this.client = client;
    }

    /** Polls until {@code pending} completes; returns without waiting for its outcome. */
    void pollUntilDone(Future<?> pending) throws InterruptedException {
        Long endOfPrevious = null;
        while (!pending.isDone()) {
            if (endOfPrevious != null) {
                long breakLeft = POLLING_BREAK_MS - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - endOfPrevious);
                if (breakLeft > 0) {
                    Thread.sleep(breakLeft);
                    continue;
                }
            }
            poll();
            endOfPrevious = System.nanoTime();
        }
    }

    private void poll() throws InterruptedException {
        Future<JsonRpcResponse> answer;
        try {
            answer = client.call(new RequestBuilder("Host.confirmConnectivity").build());
        } catch (ClientConnectionException e) {
            return;
        }
        sent++;
        try {
            if (!new ResponseDecomposer(answer.get(POLL_TIMEOUT_MS, TimeUnit.MILLISECONDS)).isError()) {
                confirmed++;
            }
        } catch (TimeoutException e) {
            client.removeCall(answer);
        } catch (ExecutionException e) {
            // as a timeout: the engine logs it at debug level and polls again
        }
    }

    /** Polls sent. */
    int sent() {
        return sent;
    }

    /** Polls the host answered without an error. */
    int confirmed() {
        return confirmed;
    }
}
