namespace OrleansQuant.Silo;

/// <summary>
/// How silos find each other, from the section <see cref="Section"/> ("OrleansQuant:Clustering"; environment:
/// <c>OrleansQuant__Clustering__Redis</c>, …; <c>serve --redis</c>, <c>--cluster-id</c>). Without <see cref="Redis"/>,
/// localhost clustering as before: one machine, the membership in the primary silo's memory (fine for one process,
/// not for a cluster that must outlive a silo: docs/RELIABILITY.md, Membership).
/// </summary>
internal sealed class ClusteringOptions
{
    public const string Section = "OrleansQuant:Clustering";

    /// <summary>The subsection bound to Orleans' <c>ClusterMembershipOptions</c> (probe timeout, missed probes, votes), e.g. to detect a dead silo faster.</summary>
    public const string MembershipSection = Section + ":Membership";

    /// <summary>A Redis endpoint "HOST:PORT" (or a StackExchange.Redis connection string) that holds the membership; every silo and client of the cluster names the same.</summary>
    public string? Redis { get; set; }

    /// <summary>The cluster's id: silos and clients with the same id (and service id) in one Redis form one cluster.</summary>
    public string ClusterId { get; set; } = "default";

    /// <summary>The service's id, the other half of the Redis key <c>{ServiceId}/members/{ClusterId}</c>.</summary>
    public string ServiceId { get; set; } = "default";

    /// <summary>
    /// The address other silos and clients reach this one at. Empty: loopback when Redis is on loopback (a cluster whose
    /// membership is on this machine's loopback can only be on this machine), else Orleans' choice, this host's first
    /// non-loopback address.
    /// </summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>What the options are called where an operator sets them, for errors.</summary>
    public const string RedisOptionName = "--redis (" + Section + ":Redis)";
}
