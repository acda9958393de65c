using System.Globalization;
using System.Text.RegularExpressions;
using Kdump.Engine.Linux.Timers;
using Kdump.Engine.Program;
using Kdump.Engine.Types;
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

    /// <summary>timer_list.flags bits (include/linux/timer.h, unchanged since 4.8).</summary>
    private const uint TimerCpuMask = 0x3ffff, TimerDeferrable = 0x80000, TimerPinned = 0x100000;

    /// <summary>
    /// crash's timer, row by row, per base identified by its address. crash 8.0.6 and 9.0.2 walk two bases per
    /// CPU, labelled BASE_STD and BASE_DEF, the NO_HZ layout before Linux 6.9. Since 6.9 (timer migration) a NO_HZ
    /// kernel has three (timer_bases[NR_BASES]: BASE_LOCAL 0, BASE_GLOBAL 1, BASE_DEF 2): crash's "BASE_DEF" is
    /// base 1 (its address is timer_bases + sizeof(struct timer_base)), which is BASE_GLOBAL, and crash never
    /// reads base 2, the deferrable timers. On such a kernel the bases crash shows must agree timer by timer
    /// (their labels aside), and the timers of the base crash skips are checked from memory: the kernel files a
    /// timer by its flags (get_timer_cpu_base: TIMER_DEFERRABLE to BASE_DEF, else TIMER_PINNED to BASE_LOCAL, else
    /// BASE_GLOBAL), so every timer we list under BASE_DEF must be deferrable, none elsewhere may be, and each is
    /// on the CPU its flags name.
    /// </summary>
    [FixtureFact]
    public void TimerEveryWheelTimer() => SchedAgreementTests.OnEveryDump(_fx, _out, "timer", "timer.txt", (d, text) =>
    {
        var crashBases = new List<(int Cpu, string Label, ulong Address)>();
        var crashRows = new List<(ulong Base, string Row)>();
        var lines = text.Replace("\r", "").Split('\n');
        ulong jiffies = ulong.Parse(lines.SkipWhile(l => !l.StartsWith("JIFFIES", StringComparison.Ordinal)).Skip(1).First().Trim(), CultureInfo.InvariantCulture);
        foreach (var l in lines)
        {
            Match m;
            if ((m = Regex.Match(l, @"^TIMER_BASES\[(\d+)\]\[(\w+)\]: ([0-9a-f]+)")).Success) crashBases.Add((int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m.Groups[2].Value, Hex(m.Groups[3].Value)));
            else if ((m = Regex.Match(l, @"^\s+(\d+)\s+(-?\d+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+<(.*)>\s*$")).Success)
                crashRows.Add((crashBases[^1].Address, $"cpu {crashBases[^1].Cpu} {m.Groups[1].Value} {m.Groups[2].Value} {Hex(m.Groups[3].Value):x} {Hex(m.Groups[4].Value):x} {m.Groups[5].Value}"));
        }
        Assert.True(crashRows.Count > 8, "too few rows parsed from timer.txt");
        var v = _fx.Open(d);
        var k = v.Kernel;
        var reader = new TimerReader(k, v);
        var warnings = new List<string>();
        var ours = reader.WheelTimers(null, warnings.Add).ToList();
        var diffs = new List<string>();
        if (reader.Clock.Jiffies != jiffies) diffs.Add($"jiffies {reader.Clock.Jiffies}, crash {jiffies}");

        var bases = k.Variable("timer_bases");
        var arr = Assert.IsType<KArrayType>(bases.ResolvedType);
        ulong size = arr.Element.Size;
        int perCpu = crashBases.Count(b => b.Cpu == 0);
        foreach (var (cpu, label, address) in crashBases)
        {
            ulong index = (address - k.PerCpuAddress(bases.Address, cpu)) / size;
            string? ourName = ours.FirstOrDefault(t => t.BaseAddress == address)?.Base;
            if (perCpu == (int)arr.Count)
            {
                if (ourName is not null && ourName != label) diffs.Add($"cpu {cpu} base {index} at {address:x}: crash {label}, ours {ourName}");
            }
            else if (!(perCpu == 2 && arr.Count == 3 && index == (label == "BASE_STD" ? 0UL : 1UL)))
                diffs.Add($"cpu {cpu} {label} at {address:x} is base {index} of {arr.Count}, crash shows {perCpu} per CPU");
        }
        var shown = crashBases.Select(b => b.Address).ToHashSet();
        diffs.AddRange(CrashRows.Diff("timer", crashRows.Select(r => r.Row).Order(StringComparer.Ordinal).ToList(),
            ours.Where(t => shown.Contains(t.BaseAddress)).Select(t => $"cpu {t.Cpu} {t.Expires} {t.TimeToExpire} {t.Timer:x} {t.Function:x} {t.FunctionName}").Order(StringComparer.Ordinal).ToList()));

        // the bases crash does not read (6.9+): proven from each timer's own flags, as the kernel filed them
        var tl = k.FindType("struct timer_list");
        ulong flagsOff = KernelObject.MemberOffset(tl, "flags");
        int skipped = 0;
        foreach (var t in ours)
        {
            uint flags = k.ReadU32(t.Timer + flagsOff);
            if ((flags & TimerCpuMask) != (uint)t.Cpu) diffs.Add($"{t}: flags 0x{flags:x} name CPU {flags & TimerCpuMask}");
            if (arr.Count == 3)
            {
                string expected = (flags & TimerDeferrable) != 0 ? "BASE_DEF" : (flags & TimerPinned) != 0 ? "BASE_LOCAL" : "BASE_GLOBAL";
                if (t.Base != expected) diffs.Add($"{t}: flags 0x{flags:x} file it in {expected}");
            }
            if (!shown.Contains(t.BaseAddress)) skipped++;
        }
        if (perCpu < (int)arr.Count) _out.WriteLine($"{d.Id}: crash shows {perCpu} of {arr.Count} bases per CPU; {skipped} timers of the others checked by their flags");
        diffs.AddRange(warnings);
        return diffs;
    });

    /// <summary>
    /// crash's timer -r, row by row. Two things crash 9.0.2 gets wrong on Linux 7.x are checked from memory instead:
    /// hrtimer.node became a timerqueue_linked_node (an rb_node_linked of 40 bytes, then expires at 40), and crash
    /// still reads EXPIRES at timerqueue_node's offset (24, the node's prev pointer): its EXPIRES is below
    /// SOFTEXPIRES, which the kernel never allows (hrtimer_set_expires_range: node.expires = _softexpires + slack,
    /// slack >= 0), so where crash's rows break that rule its EXPIRES and TTE are not compared and ours must keep
    /// it (0 <= expires - softexpires, within the largest slack a timer gets, seconds at most). And with
    /// hrtimer_clock_base.get_time gone crash names a base by its enum hrtimer_base_type name
    /// ([HRTIMER_BASE_MONOTONIC]); ours is the clock's function from the base's clockid, checked against that name.
    /// </summary>
    [FixtureFact]
    public void TimerREveryHrTimer() => SchedAgreementTests.OnEveryDump(_fx, _out, "timer -r", "timer-hr.txt", (d, text) =>
    {
        var v = _fx.Open(d);
        var rows = new List<(string Key, long Soft, long Expires, string Tte)>();
        var current = new Dictionary<(int Cpu, int Clock), long>();
        string cpu = "", clock = "";
        int clockIndex = 0;
        bool currentNext = false;
        foreach (var l in text.Replace("\r", "").Split('\n'))
        {
            Match m;
            if (currentNext && long.TryParse(l.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long now)) current[(int.Parse(cpu, CultureInfo.InvariantCulture), clockIndex)] = now;
            currentNext = l.Trim() == "CURRENT";
            if ((m = Regex.Match(l, @"^CPU: (\d+)\s+HRTIMER_CPU_BASE")).Success) cpu = m.Groups[1].Value;
            else if ((m = Regex.Match(l, @"^\s+CLOCK: (\d+)\s+HRTIMER_CLOCK_BASE: ([0-9a-f]+)\s+\[(.*)\]")).Success)
            {
                clockIndex = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                clock = $"cpu {cpu} clock {m.Groups[1].Value} {Hex(m.Groups[2].Value):x} {ClockName(v.Kernel, clockIndex, m.Groups[3].Value)}";
            }
            else if ((m = Regex.Match(l, @"^\s+(\d+)\s+(-?\d+)\s+(-?\d+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+<(.*)>\s*$")).Success)
                rows.Add(($"{clock} {m.Groups[1].Value} {Hex(m.Groups[4].Value):x} {Hex(m.Groups[5].Value):x} {m.Groups[6].Value}",
                    long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), m.Groups[3].Value));
        }
        Assert.True(rows.Count >= 2, "too few rows parsed from timer-hr.txt");
        bool crashExpiresWrong = rows.Any(r => r.Expires < r.Soft);
        var warnings = new List<string>();
        var timers = new TimerReader(v.Kernel, v).HrTimers(null, warnings.Add).ToList();
        var expected = rows.Select(r => crashExpiresWrong ? r.Key : $"{r.Key} {r.Expires} {r.Tte}").ToList();
        var ours = timers.Select(t => $"cpu {t.Cpu} clock {t.Clock} {t.BaseAddress:x} {t.ClockFunction} {t.SoftExpires} {t.Timer:x} {t.Function:x} {t.FunctionName}"
            + (crashExpiresWrong ? "" : $" {t.Expires} {t.TimeToExpire}")).ToList();
        var diffs = CrashRows.Diff("timer -r", expected, ours);
        if (crashExpiresWrong)
        {
            _out.WriteLine($"{d.Id}: crash's EXPIRES is below SOFTEXPIRES in {rows.Count(r => r.Expires < r.Soft)} of {rows.Count} rows; expiries checked against _softexpires");
            foreach (var t in timers)
            {
                if (t.Expires < t.SoftExpires || t.Expires - t.SoftExpires > 10_000_000_000UL) diffs.Add($"{t}: expires {t.Expires}, softexpires {t.SoftExpires}");
                // crash's CURRENT (the base's clock at the crash) is right: TTE is our expiry against it
                if (!current.TryGetValue((t.Cpu, t.Clock!.Value), out long now)) diffs.Add($"{t}: crash shows no CURRENT for its base");
                else if (t.TimeToExpire != (long)t.Expires - now) diffs.Add($"{t}: TTE {t.TimeToExpire}, expires - crash's CURRENT {now} = {(long)t.Expires - now}");
            }
        }
        diffs.AddRange(warnings);
        return diffs;
    });

    /// <summary>
    /// crash's name of a clock base: the get_time function's symbol, or (Linux 7.0+, no get_time) the base's enum
    /// hrtimer_base_type name, which must be the base's index; that name is mapped to the function of its clock.
    /// </summary>
    private static string ClockName(Kdump.Engine.Program.KernelProgram k, int index, string crash)
    {
        if (!crash.StartsWith("HRTIMER_BASE_", StringComparison.Ordinal)) return crash;
        Assert.True(k.TryFindEnumerator(crash, out long value) && value == index, $"{crash} is not enumerator {index} of hrtimer_base_type");
        string clock = crash["HRTIMER_BASE_".Length..].Replace("_SOFT", "", StringComparison.Ordinal);
        return clock switch
        {
            "MONOTONIC" => "ktime_get", "REALTIME" => "ktime_get_real", "BOOTTIME" => "ktime_get_boottime", "TAI" => "ktime_get_clocktai",
            _ => crash,
        };
    }
}
