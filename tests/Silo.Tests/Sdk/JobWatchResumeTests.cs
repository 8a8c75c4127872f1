using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Orleans.Runtime;
using OrleansQuant.Client;
using OrleansQuant.Contracts;
using OrleansQuant.Silo.Tests.Membership;

namespace OrleansQuant.Silo.Tests.Sdk;

/// <summary>
/// The SDK's re-attached job watch (<see cref="JobWatchResume"/>) against a scripted job log: each event once and in
/// order across breaks, from the event after the last one delivered, bounded, and only for a silo or gateway going away.
/// </summary>
public sealed class JobWatchResumeTests
{
    private static readonly GenerationResumeOptions s_fast = new() { FirstDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero };

    [Fact]
    public async Task A_watch_broken_twice_is_opened_again_after_the_last_event_delivered_and_yields_each_event_once()
    {
        // Broken after 2 events (and a heartbeat), then after 1 more.
        var job = new ScriptedJob(breakAfter: [2, 1]);
        var log = new ConcurrentQueue<string>();
        var watch = new JobWatchResume(s_fast, new QueueLoggerProvider(log).CreateLogger("test"));

        var events = await Collect(watch.Run("m", "quantize-1-ab12", 0, job.Open));

        Assert.Equal([0, 1, 2, 3, 4], events.Where(e => e.Stage != "heartbeat").Select(e => e.Sequence));
        Assert.Equal("done", events[^1].Stage);
        Assert.Equal([0, 2, 3], job.Opened);
        Assert.Equal(2, log.Count(l => l.Contains("watching again from event", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_watch_taken_up_from_an_event_opens_there_and_a_heartbeat_does_not_move_it()
    {
        var job = new ScriptedJob(breakAfter: [0]);
        var watch = new JobWatchResume(s_fast, new QueueLoggerProvider(new()).CreateLogger("test"));

        var events = await Collect(watch.Run("m", "j", 3, job.Open));

        Assert.Equal([3, 4], events.Where(e => e.Stage != "heartbeat").Select(e => e.Sequence));
        Assert.Equal([3, 3], job.Opened);
    }

    [Fact]
    public async Task Resumes_are_bounded_and_the_error_says_where_to_watch_from()
    {
        var job = new ScriptedJob(breakAfter: [1, 0, 0, 0]);
        var watch = new JobWatchResume(new GenerationResumeOptions { MaxResumes = 2, FirstDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero },
            new QueueLoggerProvider(new()).CreateLogger("test"));

        var error = await Assert.ThrowsAsync<JobWatchInterruptedException>(() => Collect(watch.Run("m", "save-3-0c0c", 0, job.Open)));

        Assert.Equal(1, error.Next);
        Assert.Equal("save-3-0c0c", error.JobId);
        Assert.Contains("2 resumes allowed are used up", error.Message);
        Assert.IsType<SiloUnavailableException>(error.InnerException);
        Assert.Equal(3, job.Opened.Count);
    }

    [Fact]
    public async Task A_job_its_coordinator_no_longer_knows_ends_the_watch_with_that_error()
    {
        var job = new ScriptedJob(breakAfter: [2], lostAfterBreak: true);
        var watch = new JobWatchResume(s_fast, new QueueLoggerProvider(new()).CreateLogger("test"));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Collect(watch.Run("m", "quantize-1-ab12", 0, job.Open)));

        Assert.Contains("no job 'quantize-1-ab12'", error.Message);
        Assert.Equal([0, 2], job.Opened);
    }

    [Fact]
    public async Task A_gateway_that_closes_opens_a_waiting_watch_again_at_once()
    {
        var job = new ScriptedJob(breakAfter: [], hangAfter: 2);
        var loss = new GatewayLoss();
        var watch = new JobWatchResume(s_fast, new QueueLoggerProvider(new()).CreateLogger("test"), loss);

        var run = Collect(watch.Run("m", "j", 0, job.Open));
        await ProcessCluster.Until(() => Task.FromResult(job.Waiting), TimeSpan.FromSeconds(10), "the first watch waiting");
        loss.NotifyGatewayCountChanged(currentNumberOfGateways: 1, previousNumberOfGateways: 2, connectionRecovered: false);
        var events = await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([0, 1, 2, 3, 4], events.Where(e => e.Stage != "heartbeat").Select(e => e.Sequence));
        Assert.Equal([0, 2], job.Opened);
    }

    private static async Task<List<JobEvent>> Collect(IAsyncEnumerable<JobEvent> events)
    {
        var list = new List<JobEvent>();
        await foreach (var e in events)
        {
            list.Add(e);
        }

        return list;
    }

    /// <summary>
    /// A job whose log is sample, calibrate, quantize, quantize, done (sequences 0 to 4), a heartbeat after each event.
    /// Attempt k breaks after <c>breakAfter[k]</c> logged events with a dead silo's error, or hangs after
    /// <c>hangAfter</c> on the first attempt; when <c>lostAfterBreak</c>, a watch opened after a break finds no job.
    /// </summary>
    private sealed class ScriptedJob(int[] breakAfter, int? hangAfter = null, bool lostAfterBreak = false)
    {
        private static readonly string[] s_stages = ["sample", "calibrate", "quantize", "quantize", "done"];

        public List<int> Opened { get; } = new();

        public bool Waiting { get; private set; }

        public async IAsyncEnumerable<JobEvent> Open(int from, [EnumeratorCancellation] CancellationToken cancellation)
        {
            int attempt = Opened.Count;
            Opened.Add(from);
            if (attempt > 0 && lostAfterBreak)
            {
                throw new ArgumentException("no job 'quantize-1-ab12'; known jobs: load-1-9e9e");
            }

            int sent = 0;
            for (int sequence = from; sequence < s_stages.Length; sequence++)
            {
                await Task.Yield();
                if (attempt < breakAfter.Length && sent == breakAfter[attempt])
                {
                    throw new SiloUnavailableException("the silo went away");
                }

                if (attempt == 0 && sent == hangAfter)
                {
                    Waiting = true;
                    await Task.Delay(Timeout.Infinite, cancellation);
                }

                yield return new JobEvent(s_stages[sequence], sequence, s_stages.Length, sequence, Sequence: sequence);
                sent++;
                yield return new JobEvent("heartbeat", sequence, s_stages.Length, sequence);
            }
        }
    }
}
