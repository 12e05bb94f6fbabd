namespace VectorStore.Server;

/// <summary>
/// Counts connections in their two lives and applies one cap to each: connections still in the handshake (TLS and
/// Hello) and authenticated ones. Silent sockets therefore never take an authenticated client's place; and when the
/// handshake pool is full the oldest pending connection is closed to admit the new one, so a flood of idle sockets
/// cannot keep out a client that authenticates within moments of connecting. Thread-safe.
/// </summary>
internal sealed class ConnectionAdmission(int maxAuthenticated, int maxPending)
{
    private readonly object _gate = new();
    private readonly LinkedList<ServerConnection> _pending = new();
    private int _authenticated;

    /// <summary>Authenticated connections.</summary>
    public int Authenticated
    {
        get { lock (_gate) return _authenticated; }
    }

    /// <summary>True while every authenticated place is taken: a new connection could not complete its handshake.</summary>
    public bool AuthenticatedFull
    {
        get { lock (_gate) return _authenticated >= maxAuthenticated; }
    }

    /// <summary>
    /// Adds a new connection to the handshake pool. When the pool was full, returns its oldest connection, already
    /// removed from the pool, which the caller must close; otherwise null.
    /// </summary>
    public ServerConnection? Admit(ServerConnection connection)
    {
        lock (_gate)
        {
            ServerConnection? evicted = null;
            if (_pending.Count >= maxPending && _pending.First is { } oldest)
            {
                _pending.RemoveFirst();
                oldest.Value.AdmissionNode = null;
                evicted = oldest.Value;
            }
            connection.AdmissionNode = _pending.AddLast(connection);
            return evicted;
        }
    }

    /// <summary>Moves a connection that passed the handshake to the authenticated count; false when that is full.</summary>
    public bool TryPromote(ServerConnection connection)
    {
        lock (_gate)
        {
            RemovePendingLocked(connection);
            if (_authenticated >= maxAuthenticated) return false;
            _authenticated++;
            return true;
        }
    }

    /// <summary>Forgets a closed connection; <paramref name="authenticated"/> says whether it was promoted.</summary>
    public void Leave(ServerConnection connection, bool authenticated)
    {
        lock (_gate)
        {
            RemovePendingLocked(connection);
            if (authenticated) _authenticated--;
        }
    }

    private void RemovePendingLocked(ServerConnection connection)
    {
        if (connection.AdmissionNode is { List: not null } node) _pending.Remove(node);
        connection.AdmissionNode = null;
    }
}
