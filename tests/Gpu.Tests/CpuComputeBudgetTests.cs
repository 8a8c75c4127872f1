namespace OrleansQuant.Gpu.Tests;

/// <summary>The process's cores as a budget: grants in arrival order, several units at once, cancellable waits.</summary>
public sealed class CpuComputeBudgetTests
{
    [Fact]
    public void GrantsAtOnceWhileCoresAreFree()
    {
        var budget = new CpuComputeBudget(4);
        using var a = budget.Acquire(3);
        using var b = budget.Acquire(1);
        Assert.Equal(0, budget.Available);
        Assert.Equal(0, budget.Waiting);
    }

    [Fact]
    public async Task AWideRequestIsNotOvertakenByNarrowOnesBehindIt()
    {
        var budget = new CpuComputeBudget(2);
        var first = budget.Acquire(1);
        var wide = budget.AcquireAsync(2).AsTask();
        var narrow = budget.AcquireAsync(1).AsTask();

        // One core is free, but the narrow request arrived after the wide one and waits behind it.
        Assert.False(wide.IsCompleted);
        Assert.False(narrow.IsCompleted);
        Assert.Equal(2, budget.Waiting);

        first.Dispose();
        var wideLease = await wide.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(narrow.IsCompleted);
        wideLease.Dispose();
        using var narrowLease = await narrow.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, budget.Available);
    }

    [Fact]
    public async Task ACancelledWaitLeavesTheQueueAndLetsTheNextIn()
    {
        var budget = new CpuComputeBudget(2);
        using var held = budget.Acquire(1);
        using var cancel = new CancellationTokenSource();
        var wide = budget.AcquireAsync(2, cancel.Token).AsTask();
        var narrow = budget.AcquireAsync(1).AsTask();

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wide);
        using var lease = await narrow.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, budget.Waiting);
    }

    [Fact]
    public void RequestsWiderThanTheBudgetTakeAllOfIt()
    {
        var budget = new CpuComputeBudget(2);
        using var lease = budget.Acquire(8);
        Assert.Equal(2, lease.Units);
        Assert.Equal(0, budget.Available);
    }

    [Fact]
    public void DisposingALeaseTwiceReturnsItsCoresOnce()
    {
        var budget = new CpuComputeBudget(2);
        var lease = budget.Acquire(2);
        lease.Dispose();
        lease.Dispose();
        Assert.Equal(2, budget.Available);
    }

    [Theory]
    [InlineData(2, 4, new[] { 1, 1, 1, 1 })]
    [InlineData(5, 2, new[] { 3, 2 })]
    [InlineData(8, 3, new[] { 3, 3, 2 })]
    [InlineData(4, 1, new[] { 4 })]
    public void SharesAddUpToTheCoresAndAreAtLeastOne(int cores, int devices, int[] expected)
    {
        var budget = new CpuComputeBudget(cores);
        Assert.Equal(expected, Enumerable.Range(0, devices).Select(i => budget.ShareOf(i, devices)));
    }

    [Fact]
    public void TheProcessBudgetHasTheCoresThisProcessMayUse() =>
        Assert.Equal(Environment.ProcessorCount, CpuComputeBudget.Process.Cores);
}
