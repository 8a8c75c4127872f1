namespace OrleansQuant.Client;

/// <summary>
/// The Redis that holds a cluster's membership did not answer, or its setting is not a Redis connection string. The
/// message names the option it came from (<c>--redis</c>, <c>OrleansQuant:Clustering:Redis</c>, <c>OrleansQuant:Client:Redis</c>)
/// and what was expected, so an operator can fix the setting or start <c>redis-server</c>.
/// </summary>
/// <remarks>An <see cref="InvalidOperationException"/>, so the CLI reports it as one line like other failures to reach a cluster.</remarks>
public sealed class RedisMembershipException(string message, Exception? inner = null) : InvalidOperationException(message, inner);
