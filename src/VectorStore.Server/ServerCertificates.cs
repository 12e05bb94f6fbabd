using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace VectorStore.Server;

/// <summary>Loads the certificate a TLS server presents. Stateless and thread-safe.</summary>
public static class ServerCertificates
{
    /// <summary>
    /// Loads a server certificate with its private key: a PKCS#12 file (<c>.pfx</c>/<c>.p12</c>, without a password)
    /// when <paramref name="keyPath"/> is null and the file is not PEM; otherwise PEM, the key taken from
    /// <paramref name="keyPath"/> or, when null, from the certificate file itself. Throws
    /// <see cref="InvalidArgumentException"/> naming the file when it cannot be read, parsed, or holds no private key.
    /// </summary>
    public static X509Certificate2 Load(string certificatePath, string? keyPath = null)
    {
        X509Certificate2 cert;
        try
        {
            cert = keyPath is null && !IsPem(certificatePath)
                ? X509CertificateLoader.LoadPkcs12FromFile(certificatePath, password: null)
                : X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new InvalidArgumentException(
                $"TLS certificate {certificatePath}{(keyPath is null ? "" : $" with key {keyPath}")}: {e.Message} " +
                "(expected a PEM certificate with its key, in the same file or in the key file, or a PKCS#12 file without a password)");
        }
        if (!cert.HasPrivateKey)
        {
            cert.Dispose();
            throw new InvalidArgumentException($"TLS certificate {certificatePath} holds no private key; give it in the same file or as the key file");
        }
        return cert;
    }

    private static bool IsPem(string path)
    {
        try
        {
            using var reader = new StreamReader(path);
            var head = new char[4096];
            int n = reader.ReadBlock(head, 0, head.Length);
            return new string(head, 0, n).Contains("-----BEGIN", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidArgumentException($"TLS certificate {path}: {e.Message}");
        }
    }
}
