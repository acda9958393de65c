using System.Globalization;
using System.Text.RegularExpressions;
using Kdump.Engine.Linux.Timers;
using Kdump.Engine.Tests.FixtureAgreement;
using Xunit.Abstractions;

namespace Kdump.Engine.Tests.Sched;

/// <summary>Issue #13: crash 8.0.6's timer and timer -r agree with Get-CrashTimer's reader on every fixture dump.</summary>
[Collection(FixtureDumpsCollection.Name)]
public class TimerAgreementTests
{
    private readonly FixtureDumps _fx;
    private readonly ITestOutputHelper _out;

    public TimerAgreementTests(FixtureDumps fx, ITestOutputHelper output) { _fx = fx; _out = output; }

    private static ulong Hex(string s) => ulong.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    [FixtureFact]
    public void TimerEveryWheelTimer() => SchedAgreementTests.OnEveryDump(_fx, _out, "timer", "timer.txt", (d, text) =>
    {
        var rows = new List<string>();
        string where = "";
        var lines = text.Replace("\r", "").Split('\n');
        ulong jiffies = ulong.Parse(lines.SkipWhile(l => !l.StartsWith("JIFFIES", StringComparison.Ordinal)).Skip(1).First().Trim(), CultureInfo.InvariantCulture);
        foreach (var l in lines)
        {
            Match m;
            if ((m = Regex.Match(l, @"^TIMER_BASES\[(\d+)\]\[(\w+)\]: ([0-9a-f]+)")).Success) { where = $"cpu {m.Groups[1].Value} {m.Groups[2].Value}"; rows.Add($"{where} at {Hex(m.Groups[3].Value):x}"); }
            else if ((m = Regex.Match(l, @"^\s+(\d+)\s+(-?\d+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+<(.*)>\s*$")).Success)
                rows.Add($"{where} {m.Groups[1].Value} {m.Groups[2].Value} {Hex(m.Groups[3].Value):x} {Hex(m.Groups[4].Value):x} {m.Groups[5].Value}");
        }
        Assert.True(rows.Count > 8, "too few rows parsed from timer.txt");
        var v = _fx.Open(d);
        var reader = new TimerReader(v.Kernel, v);
        var warnings = new List<string>();
        var ours = new List<string>();
        string last = "";
        foreach (var t in reader.WheelTimers(null, warnings.Add))
        {
            string w = $"cpu {t.Cpu} {t.Base}";
            if (w != last) { ours.Add($"{w} at {t.BaseAddress:x}"); last = w; }
            ours.Add($"{w} {t.Expires} {t.TimeToExpire} {t.Timer:x} {t.Function:x} {t.FunctionName}");
        }
        var diffs = new List<string>();
        if (reader.Clock.Jiffies != jiffies) diffs.Add($"jiffies {reader.Clock.Jiffies}, crash {jiffies}");
        // crash prints every base, empty or not; we name a base once it has a timer: compare the timers, and the
        // addresses of the bases that have some
        var crashTimers = rows.Where(r => !r.Contains(" at ", StringComparison.Ordinal)).ToList();
        var crashBases = rows.Where(r => r.Contains(" at ", StringComparison.Ordinal)).ToHashSet();
        diffs.AddRange(CrashRows.Diff("timer", crashTimers.Order(StringComparer.Ordinal).ToList(),
            ours.Where(r => !r.Contains(" at ", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList()));
        diffs.AddRange(ours.Where(r => r.Contains(" at ", StringComparison.Ordinal) && !crashBases.Contains(r)).Select(r => "base not crash's: " + r));
        diffs.AddRange(warnings);
        return diffs;
    });

    [FixtureFact]
    public void TimerREveryHrTimer() => SchedAgreementTests.OnEveryDump(_fx, _out, "timer -r", "timer-hr.txt", (d, text) =>
    {
        var rows = new List<string>();
        string cpu = "", clock = "";
        foreach (var l in text.Replace("\r", "").Split('\n'))
        {
            Match m;
            if ((m = Regex.Match(l, @"^CPU: (\d+)\s+HRTIMER_CPU_BASE")).Success) cpu = m.Groups[1].Value;
            else if ((m = Regex.Match(l, @"^\s+CLOCK: (\d+)\s+HRTIMER_CLOCK_BASE: ([0-9a-f]+)\s+\[(.*)\]")).Success) clock = $"cpu {cpu} clock {m.Groups[1].Value} {Hex(m.Groups[2].Value):x} {m.Groups[3].Value}";
            else if ((m = Regex.Match(l, @"^\s+(\d+)\s+(\d+)\s+(-?\d+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+<(.*)>\s*$")).Success)
                rows.Add($"{clock} {m.Groups[1].Value} {m.Groups[2].Value} {m.Groups[3].Value} {Hex(m.Groups[4].Value):x} {Hex(m.Groups[5].Value):x} {m.Groups[6].Value}");
        }
        Assert.True(rows.Count >= 2, "too few rows parsed from timer-hr.txt");
        var v = _fx.Open(d);
        var warnings = new List<string>();
        var ours = new TimerReader(v.Kernel, v).HrTimers(null, warnings.Add)
            .Select(t => $"cpu {t.Cpu} clock {t.Clock} {t.BaseAddress:x} {t.ClockFunction} {t.SoftExpires} {t.Expires} {t.TimeToExpire} {t.Timer:x} {t.Function:x} {t.FunctionName}").ToList();
        var diffs = CrashRows.Diff("timer -r", rows, ours);
        diffs.AddRange(warnings);
        return diffs;
    });
}
