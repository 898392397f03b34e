package com.example.catalog.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A private CA, made fresh for a test run, and PEM files it signs: {@code ca.crt}, a
 * server certificate for localhost and 127.0.0.1 ({@code server.crt}, {@code server.key})
 * and a client certificate ({@code client.crt}, {@code client.key}).
 */
public final class TestCertificates {

	private static final AtomicLong serials = new AtomicLong(System.currentTimeMillis());

	private TestCertificates() {
	}

	/** Writes the files into a new temporary folder and returns it. */
	public static Path create() {
		try {
			Path folder = Files.createTempDirectory("catalog-tls-");
			KeyPair caKeys = newKeyPair();
			X500Name ca = new X500Name("CN=product-catalog test CA");
			X509Certificate caCertificate = sign(ca, caKeys, ca, caKeys, true, null);
			writeCertificate(folder.resolve("ca.crt"), caCertificate);

			KeyPair serverKeys = newKeyPair();
			writeCertificate(folder.resolve("server.crt"),
					sign(ca, caKeys, new X500Name("CN=localhost"), serverKeys, false, KeyPurposeId.id_kp_serverAuth));
			writeKey(folder.resolve("server.key"), serverKeys);

			KeyPair clientKeys = newKeyPair();
			writeCertificate(folder.resolve("client.crt"), sign(ca, caKeys, new X500Name("CN=product-catalog"),
					clientKeys, false, KeyPurposeId.id_kp_clientAuth));
			writeKey(folder.resolve("client.key"), clientKeys);
			return folder;
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (GeneralSecurityException | OperatorCreationException ex) {
			throw new IllegalStateException("Cannot make test certificates", ex);
		}
	}

	private static KeyPair newKeyPair() throws GeneralSecurityException {
		KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
		generator.initialize(256);
		return generator.generateKeyPair();
	}

	private static X509Certificate sign(X500Name issuer, KeyPair issuerKeys, X500Name subject, KeyPair subjectKeys,
			boolean authority, KeyPurposeId purpose)
			throws IOException, GeneralSecurityException, OperatorCreationException {
		Instant now = Instant.now();
		X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer,
				BigInteger.valueOf(serials.incrementAndGet()), Date.from(now.minus(Duration.ofHours(1))),
				Date.from(now.plus(Duration.ofDays(2))), subject, subjectKeys.getPublic());
		builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(authority));
		if (authority) {
			builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
		}
		else {
			builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
			builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
			builder.addExtension(Extension.subjectAlternativeName, false,
					new GeneralNames(new GeneralName[] { new GeneralName(GeneralName.dNSName, "localhost"),
							new GeneralName(GeneralName.iPAddress, "127.0.0.1") }));
		}
		return new JcaX509CertificateConverter().getCertificate(
				builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
	}

	private static void writeCertificate(Path file, X509Certificate certificate)
			throws IOException, GeneralSecurityException {
		writePem(file, "CERTIFICATE", certificate.getEncoded());
	}

	private static void writeKey(Path file, KeyPair keys) throws IOException {
		// A JCA private key encodes as PKCS#8, which Redis and Spring Boot both read.
		writePem(file, "PRIVATE KEY", keys.getPrivate().getEncoded());
	}

	private static void writePem(Path file, String type, byte[] der) throws IOException {
		String body = Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der);
		Files.writeString(file, "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n");
	}

}
