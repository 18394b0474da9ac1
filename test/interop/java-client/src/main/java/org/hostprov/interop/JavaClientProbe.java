package org.hostprov.interop;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.ovirt.vdsm.jsonrpc.client.JsonRpcClient;
import org.ovirt.vdsm.jsonrpc.client.JsonRpcResponse;
import org.ovirt.vdsm.jsonrpc.client.RequestBuilder;
import org.ovirt.vdsm.jsonrpc.client.events.EventSubscriber;
import org.ovirt.vdsm.jsonrpc.client.reactors.ManagerProvider;

/**
 * Connects to a hostprov agent the way ovirt-engine connects to VDSM (same library, same queues, same
 * heart-beat setting) and reports each outcome as one stdout line: {@code PROBE <json>}.
 *
 * <p>Usage: {@code JavaClientProbe <host> <port> [<certFile> <keyFile> <caFile>]}. With the three files it
 * uses mutual TLS; without them plain TCP (the agent's insecure mode), where the library's own client can
 * drop one of its first frames (see test/interop/java-client.test.ts).
 *
 * <p>After the calls it prints {@code PROBE {"step":"ready"}} and waits up to 20 s for a
 * {@code |net|host_conn|*} event, which the test publishes when it sees that line.
 */
public final class JavaClientProbe {
    private static final ObjectMapper JSON = ProbeOutput.JSON;
    private static final int TIMEOUT_SECONDS = 20;

    private JavaClientProbe() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2 && args.length != 5) {
            System.err.println("usage: JavaClientProbe <host> <port> [<certFile> <keyFile> <caFile>]");
            System.exit(2);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        ManagerProvider tls = args.length == 5 ? new PemManagerProvider(Path.of(args[2]), Path.of(args[3]), Path.of(args[4])) : null;

        EngineConnection connection = EngineConnection.open(host, port, tls, TIMEOUT_SECONDS * 1000);
        JsonRpcClient client = connection.client;

        CountDownLatch eventSeen = new CountDownLatch(1);
        connection.worker.getPublisher().subscribe(new EventSubscriber("*|net|host_conn|*") {
            @Override
            public void onSubscribe(Flow.Subscription subscription) {
                subscription.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(Map<String, Object> params) {
                ObjectNode line = JSON.createObjectNode().put("step", "event");
                line.set("params", JSON.valueToTree(params));
                report(line);
                eventSeen.countDown();
            }

            @Override
            public void onError(Throwable error) {
                report(JSON.createObjectNode().put("step", "event-error").put("message", String.valueOf(error)));
            }

            @Override
            public void onComplete() {
            }
        });

        call("ping2", client.call(new RequestBuilder("Host.ping2").build()));
        call("echo", client.call(new RequestBuilder("Test.echo")
                .withParameter("a", "from java")
                .withParameter("b", Arrays.asList(1, 2))
                .build()));
        call("unknown", client.call(new RequestBuilder("Host.noSuchVerb").build()));
        call("vdsmError", client.call(new RequestBuilder("Test.vdsmFailure").build()));

        report(JSON.createObjectNode().put("step", "ready"));
        if (!eventSeen.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            report(JSON.createObjectNode().put("step", "no-event"));
        }
        connection.close();
        report(JSON.createObjectNode().put("step", "done"));
        System.exit(0);
    }

    private static void call(String label, Future<JsonRpcResponse> pending) throws Exception {
        JsonRpcResponse response = pending.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        ObjectNode line = JSON.createObjectNode().put("step", label);
        if (response.getError() != null && !response.getError().isNull()) {
            line.set("error", response.getError());
        } else {
            line.set("result", response.getResult());
        }
        report(line);
    }

    private static void report(ObjectNode line) {
        ProbeOutput.report(line);
    }
}
