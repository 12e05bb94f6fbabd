using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace VectorStore.Cli.Commands;

/// <summary>
/// What <c>load</c> shows on stderr while it runs: a Spectre.Console bar with counts, rate and ETA when a person is
/// watching (stderr is a terminal and stdout is not, so the live bar's redraws cannot tear the <c>acked</c> lines), and
/// in every case one summary line at the end. Thread-safe: <see cref="Advance"/> is called by concurrent writers.
/// </summary>
internal sealed class LoadProgress
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private ProgressTask? _task;
    private long _done;

    /// <summary>True when the live bar is shown: stderr is a terminal and stdout is not (see the type's remarks).</summary>
    public static bool Live => !Console.IsErrorRedirected && Console.IsOutputRedirected;

    /// <summary>Runs <paramref name="body"/> under a live bar when <see cref="Live"/>, then prints the summary line.</summary>
    public int Run(Func<LoadProgress, int> body)
    {
        int code;
        if (Live)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(Console.Error),
                // Spectre judges interactivity by stdout, which is redirected here by design; stderr was checked.
                Interactive = InteractionSupport.Yes,
            });
            code = console.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new CountRateColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    _task = ctx.AddTask("load", autoStart: true, maxValue: 1);
                    return body(this);
                });
        }
        else code = body(this);
        double seconds = _clock.Elapsed.TotalSeconds;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"loaded {_done} vectors in {seconds:F2} s ({_done / Math.Max(seconds, 1e-9):F0} vectors/s)"));
        return code;
    }

    /// <summary>Records <paramref name="count"/> more durable vectors out of <paramref name="total"/>.</summary>
    public void Advance(int count, int total)
    {
        Interlocked.Add(ref _done, count);
        if (_task is { } t)
        {
            t.MaxValue = Math.Max(total, 1);
            t.Increment(count);
        }
    }

    /// <summary>Done/total and vectors per second; Spectre's own rate column counts bytes.</summary>
    private sealed class CountRateColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(string.Create(CultureInfo.InvariantCulture,
                $"{task.Value:N0}/{task.MaxValue:N0} vectors  {task.Speed ?? 0:N0}/s"));
    }
}
