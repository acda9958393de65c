using Kdump.Engine.Linux.Sys;
using Kdump.Engine.Program;

namespace Kdump.Engine.Linux.Sched;

/// <summary>
/// The kernel's tick clock at the crash: jiffies_64, the tick rate HZ, and the uptime it implies. HZ is not stored
/// in the kernel as a variable; it is told, in this order, from the length of a tick the kernel itself keeps
/// (tick_next_period - last_jiffies_update = TICK_NSEC, both updated together at every jiffies update), from
/// tick_nsec (NTP's tick length, Linux before 6.13), and last from the candidate rate (100, 250, 300, 1000, ...)
/// whose uptime by jiffies (jiffies - INITIAL_JIFFIES, where INITIAL_JIFFIES is -300*HZ as a 32-bit value) is
/// closest to the timekeeper's time since boot. Jiffies can trail the timekeeper by many ticks (a kexec'd panic
/// showed 50), so that last guess accepts up to 2% of the uptime.
/// </summary>
public sealed class KernelClock
{
    private static readonly int[] s_hzCandidates = { 100, 250, 300, 1000, 24, 32, 48, 64, 128, 200, 256, 512, 1024 };

    /// <summary>jiffies_64 at the crash.</summary>
    public ulong Jiffies { get; }
    /// <summary>The tick rate, or null when it cannot be told (no timekeeper to compare with).</summary>
    public int? Hz { get; }
    /// <summary>The timekeeper's time since boot (ns), or null.</summary>
    public ulong? BootNanoseconds { get; }
    /// <summary>Uptime by the tick count (ns): what crash's sys and ps -t use; the timekeeper's when HZ is unknown.</summary>
    public ulong? UptimeNanoseconds { get; }

    private KernelClock(ulong jiffies, int? hz, ulong? boot, ulong? uptime) { Jiffies = jiffies; Hz = hz; BootNanoseconds = boot; UptimeNanoseconds = uptime; }

    /// <summary>
    /// HZ from the tick length the kernel keeps: tick_next_period - last_jiffies_update (TICK_NSEC), else tick_nsec;
    /// the nearest candidate rate within 3% of 1e9 / length, or null.
    /// </summary>
    private static int? TickRateFromTickLength(KernelProgram p)
    {
        ulong? length = null;
        try
        {
            if (p.FindSymbol("tick_next_period") is { } next && p.FindSymbol("last_jiffies_update") is { } last)
            {
                long d = unchecked((long)p.ReadU64(next.Address) - (long)p.ReadU64(last.Address));
                if (d > 0) length = (ulong)d;
            }
            if (length is null && p.FindSymbol("tick_nsec") is { } tn) length = p.ReadU64(tn.Address);
        }
        catch (KdumpException) { return null; }
        if (length is not { } len || len < 100_000 || len > 100_000_000) return null;
        double rate = 1e9 / len;
        int best = s_hzCandidates.MinBy(c => Math.Abs(c - rate));
        return Math.Abs(best - rate) <= best * 0.03 ? best : null;
    }

    /// <summary>INITIAL_JIFFIES for a tick rate: ((unsigned long)(unsigned int)(-300*HZ)).</summary>
    public static ulong InitialJiffies(int hz) => unchecked((uint)(-300 * hz));

    /// <summary>Reads the clock; throws KdumpException when jiffies cannot be read.</summary>
    public static KernelClock Read(KernelProgram p)
    {
        var sym = p.FindSymbol("jiffies_64") ?? p.FindSymbol("jiffies")
            ?? throw new KdumpException("SymbolNotFound", KdumpErrorKind.NotFound, "Neither jiffies_64 nor jiffies is a known symbol.", "jiffies_64");
        ulong j = p.ReadU64(sym.Address);
        ulong? boot = SystemInfo.BootNanoseconds(p, out _);
        int? hz = TickRateFromTickLength(p);
        ulong? up = boot;
        if (hz is null && boot is { } b)
        {
            double best = double.MaxValue;
            foreach (int c in s_hzCandidates)
            {
                ulong ticks = unchecked(j - InitialJiffies(c));
                if (ticks > (ulong)c * 100UL * 365 * 86400) continue;
                double ns = ticks * (1e9 / c);
                double err = Math.Abs(ns - b);
                if (err < best && err <= Math.Max(2e9 / c + 1e6, b * 0.02)) { best = err; hz = c; }
            }
        }
        if (hz is { } h)
        {
            ulong ticks = unchecked(j - InitialJiffies(h));
            if (ticks <= (ulong)h * 100UL * 365 * 86400) up = ticks * (1_000_000_000UL / (ulong)h);
        }
        return new KernelClock(j, hz, boot, up);
    }
}
