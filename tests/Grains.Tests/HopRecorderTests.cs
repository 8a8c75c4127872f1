using OrleansQuant.Grains.Coordinator;

namespace OrleansQuant.Grains.Tests;

/// <summary>The coordinator's hop record: counts and means over everything since a reset, percentiles over a bounded window.</summary>
public sealed class HopRecorderTests
{
    [Fact]
    public void OverheadIsWallMinusComputeWithMeansAndNearestRankPercentiles()
    {
        var hops = new HopRecorder();
        for (int i = 1; i <= 100; i++)
        {
            hops.Record(HopRecorder.Stage, TimeSpan.FromMilliseconds(10 + i), TimeSpan.FromMilliseconds(10), layers: 4);
        }

        hops.Record(HopRecorder.Embed, TimeSpan.FromMilliseconds(3), TimeSpan.FromMilliseconds(1));
        hops.Step();
        hops.Step();

        var times = hops.Snapshot();
        Assert.Equal(2, times.Steps);
        Assert.Equal(["embed", "stage", "head"], times.Hops.Select(h => h.Kind));
        var stage = times.Hops[1];
        Assert.Equal(100, stage.Count);
        Assert.Equal(4, stage.LayersPerCall);
        Assert.Equal(10 + 50.5, stage.WallMeanMs, 9);
        Assert.Equal(10, stage.ComputeMeanMs, 9);
        Assert.Equal(50.5, stage.OverheadMeanMs, 9);
        Assert.Equal(50, stage.OverheadP50Ms, 9);
        Assert.Equal(99, stage.OverheadP99Ms, 9);
        Assert.Equal(2, times.Hops[0].OverheadP99Ms, 9);
        Assert.Equal(0, times.Hops[2].Count);
    }

    [Fact]
    public void PercentilesCoverTheMostRecentWindowWhileCountsCoverAllAndResetStartsAfresh()
    {
        var hops = new HopRecorder();
        for (int i = 0; i < HopRecorder.Window; i++)
        {
            hops.Record(HopRecorder.Head, TimeSpan.FromMilliseconds(1000), TimeSpan.Zero);
        }

        for (int i = 0; i < HopRecorder.Window; i++)
        {
            hops.Record(HopRecorder.Head, TimeSpan.FromMilliseconds(1), TimeSpan.Zero);
        }

        var head = hops.Snapshot().Hops[2];
        Assert.Equal(2 * HopRecorder.Window, head.Count);
        Assert.Equal(500.5, head.OverheadMeanMs, 9);
        Assert.Equal(1, head.OverheadP99Ms, 9);

        hops.Reset();
        hops.Record(HopRecorder.Head, TimeSpan.FromMilliseconds(7), TimeSpan.FromMilliseconds(2));
        head = hops.Snapshot().Hops[2];
        Assert.Equal(1, head.Count);
        Assert.Equal(5, head.OverheadP50Ms, 9);
        Assert.Equal(0, hops.Snapshot().Steps);
    }
}
