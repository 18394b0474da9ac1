package org.hostprov.interop;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

import org.ovirt.vdsm.jsonrpc.client.reactors.ManagerProvider;

/**
 * Key and trust managers built from the PEM files lib/pki.ts writes (an EC key in PKCS#8, a certificate and
 * the CA), so the probe authenticates to the agent with a client certificate like the engine does.
 */
final class PemManagerProvider extends ManagerProvider {
    private static final char[] IN_MEMORY_PASSWORD = "in-memory".toCharArray();

    private final Path certFile;
    private final Path keyFile;
    private final Path caFile;

    PemManagerProvider(Path certFile, Path keyFile, Path caFile) {
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.caFile = caFile;
    }

    @Override
    public KeyManager[] getKeyManagers() throws GeneralSecurityException {
        KeyStore store = emptyStore();
        store.setKeyEntry("client", readPrivateKey(keyFile), IN_MEMORY_PASSWORD, new Certificate[] { readCertificate(certFile) });
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, IN_MEMORY_PASSWORD);
        return factory.getKeyManagers();
    }

    @Override
    public TrustManager[] getTrustManagers() throws GeneralSecurityException {
        KeyStore store = emptyStore();
        store.setCertificateEntry("ca", readCertificate(caFile));
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        return factory.getTrustManagers();
    }

    private static KeyStore emptyStore() throws GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
        return store;
    }

    private static Certificate readCertificate(Path path) throws GeneralSecurityException {
        return CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(read(path)));
    }

    /** OpenSSL 3 writes new keys as unencrypted PKCS#8 ("BEGIN PRIVATE KEY"), which Java reads directly. */
    private static PrivateKey readPrivateKey(Path path) throws GeneralSecurityException {
        String pem = new String(read(path), StandardCharsets.US_ASCII);
        String base64 = pem.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", "").replaceAll("\\s", "");
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
    }

    private static byte[] read(Path path) throws GeneralSecurityException {
        try {
            return Files.readAllBytes(path);
        } catch (IOException e) {
            throw new GeneralSecurityException("cannot read " + path, e);
        }
    }
}
