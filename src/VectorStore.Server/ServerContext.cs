using System.Net.Security;
using VectorStore.Protocol;

namespace VectorStore.Server;

/// <summary>What every connection of one server shares. Immutable references to thread-safe parts.</summary>
/// <param name="Options">The server's settings.</param>
/// <param name="Dispatcher">Runs requests against the database (engine or client).</param>
/// <param name="Auth">Checks Hello tokens.</param>
/// <param name="Admission">Caps on pending and authenticated connections.</param>
/// <param name="Budget">The server-wide budget of in-flight request bytes.</param>
/// <param name="Limits">Limits announced in Hello: the configured ones, with the frame limit lowered to what the budget can hold.</param>
/// <param name="Tls">TLS settings when the server has a certificate; null for plain TCP.</param>
/// <param name="Trim">Notes each request and returns a burst's garbage once the server is idle.</param>
internal sealed record ServerContext(
    ServerOptions Options,
    IRequestHandler Dispatcher,
    TokenAuthenticator Auth,
    ConnectionAdmission Admission,
    MemoryBudget Budget,
    ProtocolLimits Limits,
    SslServerAuthenticationOptions? Tls,
    IdleTrim Trim);
