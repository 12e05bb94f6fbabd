using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace VectorStore.Client;

/// <summary>
/// The client side of TLS: the handshake and the check of the server's certificate, against the system's trust
/// store or the certificates of <see cref="ClientOptions.TlsCaFile"/>. Every failure becomes a
/// <see cref="VectorStoreTlsException"/> that says what did not match. Stateless and thread-safe.
/// </summary>
internal static class ClientTls
{
    /// <summary>Runs the TLS handshake over <paramref name="inner"/>, which the returned stream then owns.</summary>
    public static async Task<SslStream> AuthenticateAsync(Stream inner, string host, int port, ClientOptions options, CancellationToken ct)
    {
        var trusted = options.TlsCaFile is null ? null : LoadTrusted(options.TlsCaFile);
        string name = options.TlsServerName ?? host;
        string? refusal = null;
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = name,
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                {
                    refusal = Check(certificate, chain, errors, name, trusted, options.TlsCaFile);
                    return refusal is null;
                },
            }, ct).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new VectorStoreTlsException(refusal is not null
                ? $"TLS with {host}:{port}: {refusal}"
                : $"TLS handshake with {host}:{port} failed: {e.Message} (is the server serving TLS, i.e. started with --tls-cert?)", e);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Null when the certificate is acceptable, else why not.</summary>
    private static string? Check(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, string name,
        X509Certificate2Collection? trusted, string? trustedFile)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable)) return "the server presented no certificate";
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        string who = $"the server's certificate '{leaf.Subject}' (issued by '{leaf.Issuer}', SHA-256 {leaf.GetCertHashString(HashAlgorithmName.SHA256)})";
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) return $"{who} is not valid for the name '{name}'";
        if (trusted is null)
            return errors == SslPolicyErrors.None ? null
                : $"{who} is not trusted by this system ({Describe(chain)}); give its CA or the certificate itself as ClientOptions.TlsCaFile";
        foreach (var t in trusted)
            if (t.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span)) return null;
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(trusted);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
            foreach (var element in chain.ChainElements) custom.ChainPolicy.ExtraStore.Add(element.Certificate);
        return custom.Build(leaf) ? null : $"{who} does not chain to a certificate in {trustedFile} ({Describe(custom)})";
    }

    private static string Describe(X509Chain? chain) =>
        chain is null || chain.ChainStatus.Length == 0
            ? "no chain"
            : string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).DefaultIfEmpty(chain.ChainStatus[0].Status.ToString()));

    private static X509Certificate2Collection LoadTrusted(string path)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            if (File.ReadAllText(path).Contains("-----BEGIN", StringComparison.Ordinal)) certificates.ImportFromPemFile(path);
            else certificates.Add(X509CertificateLoader.LoadCertificateFromFile(path));
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidArgumentException($"TlsCaFile {path}: {e.Message}");
        }
        if (certificates.Count == 0) throw new InvalidArgumentException($"TlsCaFile {path} holds no certificate");
        return certificates;
    }
}
