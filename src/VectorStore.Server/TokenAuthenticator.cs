using System.Security.Cryptography;

namespace VectorStore.Server;

/// <summary>
/// Checks Hello tokens. Both sides are hashed with SHA-256 first so the constant-time comparison also hides the
/// expected token's length. Immutable, thread-safe.
/// </summary>
internal sealed class TokenAuthenticator(byte[]? expected)
{
    private readonly byte[]? _expectedHash = expected is null ? null : SHA256.HashData(expected);

    public bool Verify(ReadOnlySpan<byte> token)
    {
        if (_expectedHash is null) return true;
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(token, hash);
        return CryptographicOperations.FixedTimeEquals(hash, _expectedHash);
    }
}
