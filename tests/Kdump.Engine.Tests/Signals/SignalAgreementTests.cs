using System.Globalization;
using System.Text.RegularExpressions;
using Kdump.Engine.Linux.Signals;
using Kdump.Engine.Model;
using Kdump.Engine.Tests.FixtureAgreement;
using Kdump.Engine.Tests.Sched;
using Xunit.Abstractions;

namespace Kdump.Engine.Tests.Signals;

/// <summary>Issue #13: crash 8.0.6's foreach sig agrees with Get-CrashSignal's reader on every task of every fixture dump.</summary>
[Collection(FixtureDumpsCollection.Name)]
public class SignalAgreementTests
{
    private readonly FixtureDumps _fx;
    private readonly ITestOutputHelper _out;

    public SignalAgreementTests(FixtureDumps fx, ITestOutputHelper output) { _fx = fx; _out = output; }

    private static ulong Hex(string s) => ulong.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>crash's sig output as rows (every field of every task).</summary>
    internal static List<string> CrashSig(string text)
    {
        var rows = new List<string>();
        ulong task = 0; string section = "";
        bool inQueue = false;
        foreach (var raw in text.Replace("\r", "").Split('\n'))
        {
            var line = raw.TrimEnd();
            Match m;
            if ((m = Regex.Match(line, @"^PID: (\d+)\s+TASK: ([0-9a-f]+)")).Success) { task = Hex(m.Groups[2].Value); rows.Add($"{task:x} pid {m.Groups[1].Value}"); inQueue = false; }
            else if ((m = Regex.Match(line, @"^SIGNAL_STRUCT: ([0-9a-f]+)\s+NR_THREADS: (\d+)")).Success) rows.Add($"{task:x} signal {Hex(m.Groups[1].Value):x} threads {m.Groups[2].Value}");
            else if ((m = Regex.Match(line, @"^\s*\[(\d+)\] ([0-9a-f]+)\s+(\S+) ([0-9a-f]{16}) ([0-9a-f]+)(?: \((.*)\))?$")).Success)
                rows.Add($"{task:x} [{m.Groups[1].Value}] {Hex(m.Groups[2].Value):x} {m.Groups[3].Value} {m.Groups[4].Value} {Hex(m.Groups[5].Value):x} {m.Groups[6].Value}");
            else if ((m = Regex.Match(line, @"^SIGPENDING: (\S+)")).Success) rows.Add($"{task:x} sigpending {m.Groups[1].Value}");
            else if ((m = Regex.Match(line, @"^\s+BLOCKED: ([0-9a-f]+)")).Success) rows.Add($"{task:x} blocked {Hex(m.Groups[1].Value):x16}");
            else if (line is "PRIVATE_PENDING" or "SHARED_PENDING") { section = line; inQueue = false; }
            else if ((m = Regex.Match(line, @"^\s+SIGNAL: ([0-9a-f]+)")).Success) rows.Add($"{task:x} {section} {Hex(m.Groups[1].Value):x16}");
            else if ((m = Regex.Match(line, @"^\s+SIGQUEUE: (.*)$")).Success)
            {
                if (m.Groups[1].Value.Trim() == "(empty)") rows.Add($"{task:x} {section} queue empty");
                else inQueue = true;
            }
            else if (inQueue && (m = Regex.Match(line, @"^\s+(\d+)\s+([0-9a-f]+)$")).Success) rows.Add($"{task:x} {section} queued {m.Groups[1].Value} {Hex(m.Groups[2].Value):x}");
        }
        return rows;
    }

    internal static List<string> OurSig(CrashSignal s)
    {
        var rows = new List<string> { $"{s.Task:x} pid {s.Pid}", $"{s.Task:x} signal {s.SignalStruct:x} threads {s.Threads}" };
        foreach (var a in s.Actions)
            rows.Add($"{s.Task:x} [{a.Signal}] {a.Action:x} {a.HandlerText} {a.Mask:x16} {a.Flags:x} {string.Join("|", a.FlagNames)}");
        rows.Add($"{s.Task:x} sigpending {(s.SigPending ? "yes" : "no")}");
        rows.Add($"{s.Task:x} blocked {s.Blocked:x16}");
        rows.Add($"{s.Task:x} PRIVATE_PENDING {s.Pending:x16}");
        if (s.PendingQueue.Count == 0) rows.Add($"{s.Task:x} PRIVATE_PENDING queue empty");
        rows.AddRange(s.PendingQueue.Select(q => $"{s.Task:x} PRIVATE_PENDING queued {q.Signal} {q.SigInfo:x}"));
        rows.Add($"{s.Task:x} SHARED_PENDING {s.SharedPending:x16}");
        if (s.SharedQueue.Count == 0) rows.Add($"{s.Task:x} SHARED_PENDING queue empty");
        rows.AddRange(s.SharedQueue.Select(q => $"{s.Task:x} SHARED_PENDING queued {q.Signal} {q.SigInfo:x}"));
        return rows;
    }

    [FixtureFact]
    public void ForeachSigEveryTaskAndSignal() => SchedAgreementTests.OnEveryDump(_fx, _out, "foreach sig", "sig-all.txt", (d, text) =>
    {
        var expected = CrashSig(text);
        var v = _fx.Open(d);
        var reader = new SignalReader(v.Kernel, v);
        var tasks = _fx.Tasks(d).Tasks;
        Assert.True(expected.Count > tasks.Count * 5, "too few rows parsed from sig-all.txt");
        // both sides per task, in task order (crash's foreach order is ps order; the idle tasks' order differs)
        var sigs = tasks.Select(reader.Read).ToList();
        var ours = sigs.SelectMany(OurSig).ToList();
        var diffs = CrashRows.Diff("sig", expected.Order(StringComparer.Ordinal).ToList(), ours.Order(StringComparer.Ordinal).ToList());
        // tasks the table could not read, and parts of a task's signal state the dump does not hold, are said
        diffs.AddRange(_fx.Tasks(d).Warnings.Select(w => "ps warning: " + w));
        diffs.AddRange(sigs.SelectMany(s => s.Warnings.Select(w => $"sig {s.Pid}: {w}")));
        return diffs;
    });
}
