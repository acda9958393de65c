using Kdump.Engine.Linux.Sys;
using Kdump.Engine.Program;

namespace Kdump.Engine.Linux.Sched;

/// <summary>
/// The kernel's tick clock at the crash: jiffies_64, the tick rate HZ, and the uptime it implies. HZ is not stored
/// in the kernel as a variable; it is the candidate (100, 250, 300, 1000, 24, 32, 48, 64, 128, 200, 256, 512, 1024)
/// whose uptime from jiffies (jiffies - INITIAL_JIFFIES, where INITIAL_JIFFIES is -300*HZ as a 32-bit value) is
/// closest to the timekeeper's time since boot.
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

    /// <summary>INITIAL_JIFFIES for a tick rate: ((unsigned long)(unsigned int)(-300*HZ)).</summary>
    public static ulong InitialJiffies(int hz) => unchecked((uint)(-300 * hz));

    /// <summary>Reads the clock; throws KdumpException when jiffies cannot be read.</summary>
    public static KernelClock Read(KernelProgram p)
    {
        var sym = p.FindSymbol("jiffies_64") ?? p.FindSymbol("jiffies")
            ?? throw new KdumpException("SymbolNotFound", KdumpErrorKind.NotFound, "Neither jiffies_64 nor jiffies is a known symbol.", "jiffies_64");
        ulong j = p.ReadU64(sym.Address);
        ulong? boot = SystemInfo.BootNanoseconds(p, out _);
        int? hz = null;
        ulong? up = boot;
        if (boot is { } b)
        {
            double best = double.MaxValue;
            foreach (int c in s_hzCandidates)
            {
                ulong ticks = unchecked(j - InitialJiffies(c));
                if (ticks > (ulong)c * 100UL * 365 * 86400) continue;
                double ns = ticks * (1e9 / c);
                double err = Math.Abs(ns - b);
                // within two ticks of the timekeeper, the closest candidate
                if (err < best && err <= 2e9 / c + 1e6) { best = err; hz = c; }
            }
            if (hz is { } h) up = unchecked(j - InitialJiffies(h)) * (1_000_000_000UL / (ulong)h);
        }
        return new KernelClock(j, hz, boot, up);
    }
}
