package org.hostprov.interop;

import java.io.IOException;

import org.ovirt.vdsm.jsonrpc.client.ClientConnectionException;
import org.ovirt.vdsm.jsonrpc.client.JsonRpcClient;
import org.ovirt.vdsm.jsonrpc.client.internal.ClientPolicy;
import org.ovirt.vdsm.jsonrpc.client.internal.ResponseWorker;
import org.ovirt.vdsm.jsonrpc.client.reactors.ManagerProvider;
import org.ovirt.vdsm.jsonrpc.client.reactors.Reactor;
import org.ovirt.vdsm.jsonrpc.client.reactors.ReactorClient;
import org.ovirt.vdsm.jsonrpc.client.reactors.ReactorFactory;
import org.ovirt.vdsm.jsonrpc.client.reactors.ReactorType;
import org.ovirt.vdsm.jsonrpc.client.reactors.stomp.StompClientPolicy;

/**
 * A client built the way ovirt-engine builds its client for one host (ovirt-engine vdsbroker
 * jsonrpc/JsonRpcUtils.java): a STOMP reactor, the engine's queue names, a connection policy with the
 * engine's heart-beat, and a call policy whose timeout bounds every request.
 */
final class EngineConnection {
    /** The engine's default vdsHeartbeatInSeconds. */
    private static final int HEARTBEAT_MS = 30_000;
    private static final int CONNECT_TIMEOUT_MS = 10_000;

    final JsonRpcClient client;
    final ResponseWorker worker;

    private EngineConnection(JsonRpcClient client, ResponseWorker worker) {
        this.client = client;
        this.worker = worker;
    }

    /** {@code tls} null means plain TCP (the agent's insecure mode). */
    static EngineConnection open(String host, int port, ManagerProvider tls, int callTimeoutMs) throws ClientConnectionException {
        StompClientPolicy connectionPolicy = new StompClientPolicy(CONNECT_TIMEOUT_MS, 0, HEARTBEAT_MS, IOException.class,
                "jms.topic.vdsm_requests", "jms.topic.vdsm_responses");
        connectionPolicy.setEventQueue("jms.queue.events");
        connectionPolicy.setIdentifier(host);

        Reactor reactor = ReactorFactory.getReactor(tls, ReactorType.STOMP);
        ReactorClient connection = reactor.createClient(host, port);
        connection.setClientPolicy(connectionPolicy);
        ResponseWorker worker = ReactorFactory.getWorker(2);
        JsonRpcClient client = worker.register(connection);
        client.setRetryPolicy(new ClientPolicy(callTimeoutMs, 0, HEARTBEAT_MS, IOException.class));
        return new EngineConnection(client, worker);
    }

    /**
     * While a change may move the management network, the engine switches the connection's heart-beat checks
     * off, so a few seconds of silence do not close the session that will carry the answer (ovirt-engine
     * JsonRpcVdsServer.setupNetworks with isPolicyReset); {@code on} restores them.
     */
    void heartbeats(boolean on) {
        ClientPolicy policy = client.getClientRetryPolicy().clone();
        policy.setIncomingHeartbeat(on);
        policy.setOutgoingHeartbeat(on);
        client.setClientRetryPolicy(policy);
    }

    void close() {
        client.close();
    }
}
