using System.Globalization;
using System.Text.RegularExpressions;
using Kdump.Engine.Linux.Sched;
using Kdump.Engine.Model;
using Kdump.Engine.Tests.FixtureAgreement;
using Xunit.Abstractions;

namespace Kdump.Engine.Tests.Sched;

/// <summary>
/// Issue #13: on every fixture dump (all formats of both captures, BTF from the dump, no debuginfo), crash 8.0.6's
/// runq, ps -l and ps -t agree with Get-CrashRunQueue's reader and Get-CrashProcess's scheduler fields, row by row.
/// </summary>
[Collection(FixtureDumpsCollection.Name)]
public class SchedAgreementTests
{
    private readonly FixtureDumps _fx;
    private readonly ITestOutputHelper _out;

    public SchedAgreementTests(FixtureDumps fx, ITestOutputHelper output) { _fx = fx; _out = output; }

    /// <summary><see cref="CrashAgreementTests.OnEveryDump"/> over the dumps whose run has crash's <paramref name="crashFile"/>.</summary>
    internal static void OnEveryDump(FixtureDumps fx, ITestOutputHelper output, string what, string crashFile, Func<FixtureDump, string, List<string>> check)
        => CrashAgreementTests.OnEveryDump(output, what, fx.WithReference.Where(d => fx.HasCrashText(d, crashFile)).ToList(),
            d => check(d, fx.CrashText(d, crashFile)));

    private static ulong Hex(string s) => ulong.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>crash's runq as rows: one per CPU (queue addresses and the current task), one per queued task.</summary>
    internal static List<string> CrashRunq(string text)
    {
        var rows = new List<string>();
        int cpu = -1; string cls = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd();
            Match m;
            if ((m = Regex.Match(line, @"^CPU (\d+) RUNQUEUE: ([0-9a-f]+)")).Success) { cpu = int.Parse(m.Groups[1].Value); rows.Add($"cpu {cpu} rq {Hex(m.Groups[2].Value):x}"); }
            else if ((m = Regex.Match(line, @"^\s+CURRENT: PID: (\d+)\s+TASK: ([0-9a-f]+)\s+COMMAND: ""(.*)""$")).Success) rows.Add($"cpu {cpu} current {m.Groups[1].Value} {Hex(m.Groups[2].Value):x} {m.Groups[3].Value}");
            else if ((m = Regex.Match(line, @"^\s+RT PRIO_ARRAY: ([0-9a-f]+)")).Success) { cls = "RT"; rows.Add($"cpu {cpu} rt {Hex(m.Groups[1].Value):x}"); }
            else if ((m = Regex.Match(line, @"^\s+CFS RB_ROOT: ([0-9a-f]+)")).Success) { cls = "CFS"; rows.Add($"cpu {cpu} cfs {Hex(m.Groups[1].Value):x}"); }
            else if ((m = Regex.Match(line, @"^\s+\[\s*(\d+)\] PID: (\d+)\s+TASK: ([0-9a-f]+)\s+COMMAND: ""(.*)""$")).Success)
                rows.Add($"cpu {cpu} {cls} [{m.Groups[1].Value}] {m.Groups[2].Value} {Hex(m.Groups[3].Value):x} {m.Groups[4].Value}");
        }
        return rows;
    }

    internal static List<string> OurRunq(IEnumerable<CrashRunQueue> queues)
    {
        var rows = new List<string>();
        foreach (var q in queues)
        {
            rows.Add($"cpu {q.Cpu} rq {q.RunQueue:x}");
            rows.Add($"cpu {q.Cpu} current {q.CurrentPid} {q.CurrentTask:x} {q.CurrentCommand}");
            rows.Add($"cpu {q.Cpu} rt {q.RtPrioArray:x}");
            rows.AddRange(q.Queued.Where(t => t.Class == "RT").Select(t => $"cpu {q.Cpu} RT [{t.Priority}] {t.Pid} {t.Task:x} {t.Command}"));
            rows.Add($"cpu {q.Cpu} cfs {q.CfsRoot:x}");
            rows.AddRange(q.Queued.Where(t => t.Class == "CFS").Select(t => $"cpu {q.Cpu} CFS [{t.Priority}] {t.Pid} {t.Task:x} {t.Command}"));
        }
        return rows;
    }

    [FixtureFact]
    public void RunqEveryCpuAndQueuedTask() => OnEveryDump(_fx, _out, "runq", "runq.txt", (d, text) =>
    {
        var expected = CrashRunq(text);
        Assert.True(expected.Count >= 4, "no rows parsed from runq.txt");
        var v = _fx.Open(d);
        var reader = new RunQueueReader(v.Kernel, v, _fx.Tasks(d));
        var queues = reader.ReadAll().ToList();
        var diffs = CrashRows.Diff("runq", expected, OurRunq(queues));
        diffs.AddRange(queues.SelectMany(q => q.Warnings));
        return diffs;
    });

    [FixtureFact]
    public void PsLastRunEveryTask() => OnEveryDump(_fx, _out, "ps -l", "ps-last.txt", (d, text) =>
    {
        var rx = new Regex(@"^\[\s*(\d+)\] \[(..)\]\s+PID: (\d+)\s+TASK: ([0-9a-f]+)\s+CPU: (\d+)\s+COMMAND: ""(.*)""$");
        var expected = text.Split('\n').Select(l => rx.Match(l.TrimEnd())).Where(m => m.Success)
            .Select(m => (Ts: ulong.Parse(m.Groups[1].Value), Row: $"{m.Groups[1].Value} {m.Groups[2].Value} {m.Groups[3].Value} {Hex(m.Groups[4].Value):x} {m.Groups[5].Value} {m.Groups[6].Value}")).ToList();
        Assert.True(expected.Count > 10, "no rows parsed from ps-last.txt");
        var diffs = new List<string>();
        // crash sorts by the timestamp, newest first
        for (int i = 1; i < expected.Count; i++)
            if (expected[i].Ts > expected[i - 1].Ts) diffs.Add($"crash's ps -l is not sorted at row {i}");
        var ours = _fx.Tasks(d).Tasks.OrderByDescending(t => t.LastArrival).ThenBy(t => t.Task)
            .Select(t => $"{t.LastArrival} {t.State} {t.Pid} {t.Task:x} {t.Cpu} {t.Command}").ToList();
        diffs.AddRange(CrashRows.Diff("ps -l", expected.Select(e => e.Row).OrderBy(r => r, StringComparer.Ordinal).ToList(), ours.OrderBy(r => r, StringComparer.Ordinal).ToList()));
        diffs.AddRange(_fx.Tasks(d).Warnings.Select(w => "ps warning: " + w));
        return diffs;
    });

    [FixtureFact]
    public void PsTimesEveryTask() => OnEveryDump(_fx, _out, "ps -t", "ps-times.txt", (d, text) =>
    {
        var rx = new Regex(@"PID: (\d+)\s+TASK: ([0-9a-f]+)\s+CPU: (\d+)\s+COMMAND: ""(.*)""\s*\n\s+RUN TIME: (\S+)\s*\n\s+START TIME: (\d+)\s*\n\s+UTIME: (\d+)\s*\n\s+STIME: (\d+)");
        var expected = rx.Matches(text.Replace("\r", "")).Select(m =>
            $"{m.Groups[1].Value} {Hex(m.Groups[2].Value):x} {m.Groups[4].Value} run {m.Groups[5].Value} start {m.Groups[6].Value} utime {m.Groups[7].Value} stime {m.Groups[8].Value}").ToList();
        Assert.True(expected.Count > 10, "no tasks parsed from ps-times.txt");
        var ours = _fx.Tasks(d).Tasks.Select(t => $"{t.Pid} {t.Task:x} {t.Command} run {CrashRunTimeText(t.BootTime, t.StartTime)} start {t.StartTime} utime {t.UserTime} stime {t.SystemTime}").ToList();
        // crash lists the per-CPU idle tasks in its own order; the rows are compared as a set
        var diffs = CrashRows.Diff("ps -t", expected.Order(StringComparer.Ordinal).ToList(), ours.Order(StringComparer.Ordinal).ToList());
        diffs.AddRange(_fx.Tasks(d).Warnings.Select(w => "ps warning: " + w));
        return diffs;
    });

    /// <summary>
    /// crash's RUN TIME: the uptime by jiffies minus the start time truncated to whole seconds (crash converts
    /// start_time from ns to seconds before scaling it to ticks), shown as [N days, ]hh:mm:ss truncated.
    /// </summary>
    internal static string CrashRunTimeText(ulong? uptimeNs, ulong? startNs)
    {
        if (uptimeNs is not { } up || startNs is not { } st) return "?";
        ulong startWhole = st / 1_000_000_000 * 1_000_000_000;
        long s = up > startWhole ? (long)((up - startWhole) / 1_000_000_000) : 0;
        long days = s / 86400; s %= 86400;
        string hms = $"{s / 3600:00}:{s / 60 % 60:00}:{s % 60:00}";
        return days > 0 ? $"{days} days, {hms}" : hms;
    }
}
