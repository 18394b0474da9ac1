package org.hostprov.interop;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** What a probe tells the test: one stdout line per outcome, {@code PROBE <json>}. */
final class ProbeOutput {
    static final ObjectMapper JSON = new ObjectMapper();

    private ProbeOutput() {
    }

    static ObjectNode step(String name) {
        return JSON.createObjectNode().put("step", name);
    }

    static synchronized void report(ObjectNode line) {
        System.out.println("PROBE " + line);
        System.out.flush();
    }
}
