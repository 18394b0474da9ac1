package org.hostprov.interop;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.ovirt.vdsm.jsonrpc.client.JsonRpcClient;
import org.ovirt.vdsm.jsonrpc.client.JsonRpcRequest;
import org.ovirt.vdsm.jsonrpc.client.JsonRpcResponse;
import org.ovirt.vdsm.jsonrpc.client.RequestBuilder;
import org.ovirt.vdsm.jsonrpc.client.ResponseDecomposer;

/**
 * Configures a host network the way ovirt-engine does (bll network/host/HostSetupNetworksCommand, vdsbroker
 * HostSetupNetworksVDSCommand and JsonRpcVdsServer), over mutual TLS, and reports each outcome as one
 * stdout line {@code PROBE <json>} (see {@link ProbeOutput}).
 *
 * <p>Usage: {@code HostNetworkProbe <mode> <host> <port> <certFile> <keyFile> <caFile> <network>
 * <connectivityTimeoutSeconds> [<newAddress> <newGateway>]}. Both modes start with {@code Host.getCapabilities}.
 * <ul>
 * <li>{@code apply}: puts {@code <network>} as a bridged network on the NIC the host reports as the one this
 * connection arrived on ({@code lastClientIface}, which the engine takes as the host's active NIC), with
 * that NIC's reported IPv4 configuration (static or DHCP) and the default route; sends
 * {@code Host.setupNetworks} with the connectivity check and without commit, polling
 * {@code Host.confirmConnectivity} while it runs ({@link ConnectivityPoller}); on success commits with
 * {@code Host.setSafeNetworkConfig}, as the engine's commit-network-changes step does.</li>
 * <li>{@code cut}: moves {@code <network>}'s address to {@code <newAddress>} with {@code <newGateway>}, off
 * the path this connection uses, polling as above. The polls cannot reach the host, so it rolls back and
 * answers code 10 on the same connection once its address is back; the probe then asks
 * {@code Host.getCapabilities} again over that connection.</li>
 * </ul>
 */
public final class HostNetworkProbe {
    /** Bounds every call; the engine's vdsTimeout is 180 s. */
    private static final int CALL_TIMEOUT_MS = 120_000;

    private HostNetworkProbe() {
    }

    public static void main(String[] args) throws Exception {
        boolean cut = args.length == 10 && "cut".equals(args[0]);
        boolean apply = args.length == 8 && "apply".equals(args[0]);
        if (!cut && !apply) {
            System.err.println("usage: HostNetworkProbe apply|cut <host> <port> <certFile> <keyFile> <caFile> <network>"
                    + " <connectivityTimeoutSeconds> [<newAddress> <newGateway>] (the last two for cut only)");
            System.exit(2);
        }
        PemManagerProvider tls = new PemManagerProvider(Path.of(args[3]), Path.of(args[4]), Path.of(args[5]));
        EngineConnection connection = EngineConnection.open(args[1], Integer.parseInt(args[2]), tls, CALL_TIMEOUT_MS);
        String network = args[6];
        int connectivityTimeout = Integer.parseInt(args[7]);
        try {
            Map<String, Object> capabilities = capabilities(connection.client, "capabilities");
            if (apply) {
                applyManagementNetwork(connection, capabilities, network, connectivityTimeout);
            } else {
                cutManagementPath(connection, capabilities, network, connectivityTimeout, args[8], args[9]);
            }
        } finally {
            connection.close();
        }
        ProbeOutput.report(ProbeOutput.step("done"));
        System.exit(0);
    }

    private static void applyManagementNetwork(EngineConnection connection, Map<String, Object> capabilities, String network,
            int connectivityTimeout) throws Exception {
        String nic = String.valueOf(capabilities.get("lastClientIface"));
        Map<String, Object> nicInfo = mapAt(mapAt(capabilities, "nics"), nic);
        Map<String, Object> attributes = bridgedNetworkOn(nic, nicInfo.get("mtu"));
        if (Boolean.TRUE.equals(nicInfo.get("dhcpv4"))) {
            attributes.put("bootproto", "dhcp");
        } else {
            attributes.put("ipaddr", nicInfo.get("addr"));
            attributes.put("netmask", nicInfo.get("netmask"));
            attributes.put("gateway", nicInfo.get("gateway"));
        }
        JsonRpcResponse outcome = setupNetworks(connection, Map.of(network, attributes), connectivityTimeout);
        if (new ResponseDecomposer(outcome).isError()) {
            return;
        }
        JsonRpcRequest commit = new RequestBuilder("Host.setSafeNetworkConfig").build();
        JsonRpcResponse committed = connection.client.call(commit).get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        ProbeOutput.report(outcome(ProbeOutput.step("setSafeNetworkConfig").put("id", commit.getPlainId()), committed));
    }

    private static void cutManagementPath(EngineConnection connection, Map<String, Object> capabilities, String network,
            int connectivityTimeout, String newAddress, String newGateway) throws Exception {
        Map<String, Object> reported = mapAt(mapAt(capabilities, "networks"), network);
        Map<String, Object> attributes = bridgedNetworkOn(String.valueOf(reported.get("southbound")), reported.get("mtu"));
        attributes.put("ipaddr", newAddress);
        attributes.put("netmask", reported.get("netmask"));
        attributes.put("gateway", newGateway);
        setupNetworks(connection, Map.of(network, attributes), connectivityTimeout);
        capabilities(connection.client, "capabilitiesAfter");
    }

    /**
     * The attributes HostSetupNetworksVDSCommand sends for a VM (bridged) network without VLAN, QoS or IPv6
     * configuration that carries the default route: MTU as a number, the booleans as the strings VDSM expects.
     */
    private static Map<String, Object> bridgedNetworkOn(String nic, Object reportedMtu) {
        Map<String, Object> attributes = new HashMap<>();
        attributes.put("nic", nic);
        attributes.put("mtu", Integer.parseInt(String.valueOf(reportedMtu)));
        attributes.put("bridged", "true");
        attributes.put("STP", "no");
        attributes.put("defaultRoute", Boolean.TRUE);
        attributes.put("switch", "legacy");
        return attributes;
    }

    /**
     * Sends the change and polls for connectivity until it is answered, with the connection's heart-beat
     * checks off meanwhile (the engine does so when the management network changes).
     */
    private static JsonRpcResponse setupNetworks(EngineConnection connection, Map<String, Object> networks, int connectivityTimeout)
            throws Exception {
        Map<String, Object> options = new HashMap<>();
        options.put("connectivityCheck", "true");
        options.put("connectivityTimeout", connectivityTimeout);
        options.put("commitOnSuccess", Boolean.FALSE);
        JsonRpcRequest request = new RequestBuilder("Host.setupNetworks")
                .withParameter("networks", networks)
                .withParameter("bondings", new HashMap<String, Object>())
                .withParameter("options", options)
                .build();
        ConnectivityPoller poller = new ConnectivityPoller(connection.client);
        connection.heartbeats(false);
        JsonRpcResponse response;
        try {
            Future<JsonRpcResponse> pending = connection.client.call(request);
            poller.pollUntilDone(pending);
            response = pending.get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } finally {
            connection.heartbeats(true);
        }
        ObjectNode line = ProbeOutput.step("setupNetworks").put("id", request.getPlainId())
                .put("polls", poller.sent()).put("confirmed", poller.confirmed());
        line.set("params", request.getParams());
        ProbeOutput.report(outcome(line, response));
        return response;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> capabilities(JsonRpcClient client, String step) throws Exception {
        JsonRpcResponse response = client.call(new RequestBuilder("Host.getCapabilities").build()).get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        ResponseDecomposer decomposer = new ResponseDecomposer(response);
        if (decomposer.isError()) {
            throw new IllegalStateException("Host.getCapabilities failed: " + decomposer.decomposeError());
        }
        Map<String, Object> capabilities = decomposer.decomposeResponse(Map.class);
        ObjectNode line = ProbeOutput.step(step).put("lastClientIface", String.valueOf(capabilities.get("lastClientIface")));
        line.set("nics", ProbeOutput.JSON.valueToTree(mapAt(capabilities, "nics").keySet()));
        line.set("networks", ProbeOutput.JSON.valueToTree(mapAt(capabilities, "networks")));
        ProbeOutput.report(line);
        return capabilities;
    }

    /** {@code result}, or {@code error} as the engine's FutureMap reads it (the status of decomposeError). */
    private static ObjectNode outcome(ObjectNode line, JsonRpcResponse response) {
        ResponseDecomposer decomposer = new ResponseDecomposer(response);
        if (decomposer.isError()) {
            line.set("error", ProbeOutput.JSON.valueToTree(decomposer.decomposeError().get("status")));
        } else {
            line.set("result", ProbeOutput.JSON.valueToTree(decomposer.decomposeResponse(Object.class)));
        }
        return line;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> mapAt(Map<String, Object> map, String key) {
        Object value = map.get(key);
        if (!(value instanceof Map)) {
            throw new IllegalStateException("capabilities have no object at " + key + ": " + map.keySet());
        }
        return (Map<String, Object>) value;
    }
}
