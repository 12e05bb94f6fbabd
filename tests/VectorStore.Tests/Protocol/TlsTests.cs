using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using VectorStore.Client;
using VectorStore.Collections;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// TLS round trips with certificates made here (self-signed, and a CA with a leaf it signed), and a client that does
/// not trust the server's certificate, checks the wrong name, or speaks the wrong transport: each gets a typed error
/// that says what did not match.
/// </summary>
public class TlsTests
{
    /// <summary>A certificate for 127.0.0.1 and localhost with its key, signed by <paramref name="issuer"/> or by itself.</summary>
    internal static X509Certificate2 Certificate(string name, X509Certificate2? issuer = null, bool ca = false)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(ca, false, 0, true));
        if (ca)
        {
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        }
        else
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName("localhost");
            request.CertificateExtensions.Add(san.Build());
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        }
        var from = DateTimeOffset.UtcNow.AddMinutes(-5);
        // A leaf ends when its issuer does: a certificate stores whole seconds, so the issuer's end, made a moment
        // earlier, can fall before "now + 1 day" read again here, which CertificateRequest.Create refuses.
        var to = issuer is null ? DateTimeOffset.UtcNow.AddDays(1) : new DateTimeOffset(issuer.NotAfter);
        if (issuer is null) return request.CreateSelfSigned(from, to);
        using var signed = request.Create(issuer, from, to, RandomNumberGenerator.GetBytes(8));
        return signed.CopyWithPrivateKey(key);
    }

    /// <summary>Writes the certificate (PEM) to a temporary file and returns its path.</summary>
    internal static string PemFile(X509Certificate2 cert)
    {
        var path = Path.Combine(TestData.TempDir(), "cert.pem");
        File.WriteAllText(path, cert.ExportCertificatePem());
        return path;
    }

    private static ClientOptions Options(string? caFile = null, bool tls = true, string? name = null) => new()
    {
        Token = System.Text.Encoding.UTF8.GetBytes(LiveServer.Token),
        UseTls = tls,
        TlsCaFile = caFile,
        TlsServerName = name,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        RetryIdempotent = false,
    };

    private static async Task RoundTripAsync(VectorStoreClient client)
    {
        await client.CreateCollectionAsync("c", new CollectionOptions { Dimension = 3, Metric = Metric.L2, Compression = "none" });
        await client.UpsertAsync("c", 7, new float[] { 1, 2, 3 }, payload: [42]);
        Assert.Equal(7UL, Assert.Single(await client.SearchAsync("c", new float[] { 1, 2, 3 }, new SearchOptions { K = 1 })).Id);
        Assert.Equal([42], (await client.GetAsync("c", 7))!.Payload);
    }

    [Fact]
    public async Task RoundTripWithAPinnedSelfSignedCertificate()
    {
        using var cert = Certificate("vectorstore-test");
        await using var live = LiveServer.Start(o => o with { TlsCertificate = cert });
        await using var client = await VectorStoreClient.ConnectAsync("127.0.0.1", live.Port, Options(PemFile(cert)));
        await RoundTripAsync(client);
    }

    [Fact]
    public async Task RoundTripWithALeafSignedByATrustedCa()
    {
        using var ca = Certificate("vectorstore-test-ca", ca: true);
        using var leaf = Certificate("vectorstore-test-server", issuer: ca);
        await using var live = LiveServer.Start(o => o with { TlsCertificate = leaf });
        await using var client = await VectorStoreClient.ConnectAsync("localhost", live.Port, Options(PemFile(ca)));
        await RoundTripAsync(client);
    }

    [Fact]
    public async Task AClientThatDoesNotTrustTheCertificateGetsAClearError()
    {
        using var cert = Certificate("vectorstore-test");
        using var other = Certificate("someone-else");
        await using var live = LiveServer.Start(o => o with { TlsCertificate = cert });

        // The system store does not know a certificate made a moment ago.
        var system = await Assert.ThrowsAsync<VectorStoreTlsException>(() => VectorStoreClient.ConnectAsync("127.0.0.1", live.Port, Options()));
        Assert.Contains("'CN=vectorstore-test'", system.Message);
        Assert.Contains("is not trusted by this system", system.Message);

        var pinnedOther = await Assert.ThrowsAsync<VectorStoreTlsException>(() => VectorStoreClient.ConnectAsync("127.0.0.1", live.Port, Options(PemFile(other))));
        Assert.Contains("does not chain to a certificate in", pinnedOther.Message);

        var wrongName = await Assert.ThrowsAsync<VectorStoreTlsException>(() =>
            VectorStoreClient.ConnectAsync("127.0.0.1", live.Port, Options(PemFile(cert), name: "db.example.org")));
        Assert.Contains("is not valid for the name 'db.example.org'", wrongName.Message);

        // A plain client cannot talk to a TLS server, and is told what to try.
        var plain = await Assert.ThrowsAsync<VectorStoreConnectionException>(() => VectorStoreClient.ConnectAsync("127.0.0.1", live.Port, Options(tls: false)));
        Assert.Contains("set ClientOptions.UseTls", plain.Message);
        Assert.DoesNotContain(". during", plain.Message);

        // The server kept serving trusted clients throughout.
        await using var client = await VectorStoreClient.ConnectAsync("127.0.0.1", live.Port, Options(PemFile(cert)));
        await client.PingAsync();
    }

    [Fact]
    public async Task ATlsClientAgainstAPlainServerGetsAClearError()
    {
        await using var live = LiveServer.Start();
        using var cert = Certificate("vectorstore-test");
        var e = await Assert.ThrowsAsync<VectorStoreTlsException>(() => VectorStoreClient.ConnectAsync("127.0.0.1", live.Port, Options(PemFile(cert))));
        Assert.Contains("is the server serving TLS", e.Message);
        await using var client = await live.ConnectAsync();
        await client.PingAsync();
    }

    [Fact]
    public void CertificatesLoadFromPemPairsCombinedPemAndPkcs12()
    {
        using var cert = Certificate("vectorstore-test");
        var dir = TestData.TempDir();
        string certPem = Path.Combine(dir, "cert.pem"), keyPem = Path.Combine(dir, "key.pem"), both = Path.Combine(dir, "both.pem"), pfx = Path.Combine(dir, "cert.pfx");
        File.WriteAllText(certPem, cert.ExportCertificatePem());
        File.WriteAllText(keyPem, cert.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(both, cert.ExportCertificatePem() + "\n" + File.ReadAllText(keyPem));
        File.WriteAllBytes(pfx, cert.Export(X509ContentType.Pkcs12));
        foreach (var (c, k) in new[] { (certPem, keyPem), (both, null), (pfx, null) })
        {
            using var loaded = VectorStore.Server.ServerCertificates.Load(c, k);
            Assert.True(loaded.HasPrivateKey);
            Assert.Equal(cert.Thumbprint, loaded.Thumbprint);
        }
        var noKey = Assert.Throws<InvalidArgumentException>(() => VectorStore.Server.ServerCertificates.Load(certPem));
        Assert.Contains(certPem, noKey.Message);
        Assert.Throws<InvalidArgumentException>(() => VectorStore.Server.ServerCertificates.Load(Path.Combine(dir, "missing.pem")));
    }

    [SkippableFact]
    public async Task ServeWithTlsCertAndKeyFilesRoundTrips()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "needs POSIX signals");
        using var cert = Certificate("vectorstore-test");
        var dir = TestData.TempDir();
        string certPem = Path.Combine(dir, "cert.pem"), keyPem = Path.Combine(dir, "key.pem"), tokenFile = Path.Combine(dir, "token");
        File.WriteAllText(certPem, cert.ExportCertificatePem());
        File.WriteAllText(keyPem, cert.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(tokenFile, "tls-token");
        using var serve = await ServeProcess.StartAsync(Path.Combine(dir, "db"), tokenFile, "--tls-cert", certPem, "--tls-key", keyPem);
        await using (var client = await serve.ConnectAsync(new ClientOptions { TlsCaFile = certPem }))
            await RoundTripAsync(client);
        await Assert.ThrowsAsync<VectorStoreTlsException>(() => serve.ConnectAsync(new ClientOptions { UseTls = true, ConnectTimeout = TimeSpan.FromSeconds(10) }));

        // The CLI's --server commands speak TLS with --tls-ca (pinning the self-signed certificate) ...
        var (code, stdout, stderr) = VectorStore.Tests.Cli.CliRunner.Run("info", "--server", serve.Address, "--token-file", tokenFile, "--tls-ca", certPem, "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("\"collections\"", stdout);
        // ... refuse a certificate the system store does not trust, with one clear error line ...
        (code, _, stderr) = VectorStore.Tests.Cli.CliRunner.Run("info", "--server", serve.Address, "--token-file", tokenFile, "--tls", "--json");
        Assert.Equal(2, code);
        Assert.StartsWith("error:", stderr.Trim());
        // ... and refuse TLS flags without --server.
        (code, _, stderr) = VectorStore.Tests.Cli.CliRunner.Run("info", "--db", dir, "--tls");
        Assert.Equal(1, code);
        Assert.Contains("only apply with --server", stderr);
        Assert.Equal(0, await serve.TerminateAsync());
    }
}
