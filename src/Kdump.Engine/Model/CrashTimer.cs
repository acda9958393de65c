namespace Kdump.Engine.Model;

/// <summary>
/// A pending kernel timer at the crash, as crash's <c>timer</c> (timer wheel, <see cref="Kind"/> "timer_list":
/// expiry in jiffies) and <c>timer -r</c> (high-resolution timers, "hrtimer": expiry in ns of the base's clock) show it.
/// </summary>
public sealed class CrashTimer : DumpRecord
{
    public int Cpu { get; init; }
    /// <summary>"timer_list" (timer wheel) or "hrtimer".</summary>
    public string Kind { get; init; } = "";
    /// <summary>The wheel (BASE_STD, BASE_DEF, BASE_LOCAL, BASE_GLOBAL) or the hrtimer clock base (CLOCK 0-7).</summary>
    public string Base { get; init; } = "";
    /// <summary>The address of the struct timer_base or hrtimer_clock_base.</summary>
    public KernelAddress BaseAddress { get; init; }
    /// <summary>hrtimer: the base's clock index (0 monotonic, 1 realtime, 2 boottime, 3 tai; 4-7 their soft bases).</summary>
    public int? Clock { get; init; }
    /// <summary>hrtimer: the base's clock function (ktime_get, ktime_get_real ...): its get_time, or on Linux 7.0+ the function of its clockid.</summary>
    public string? ClockFunction { get; init; }
    /// <summary>Expiry: jiffies (timer_list) or ns (hrtimer node.expires).</summary>
    public ulong Expires { get; init; }
    /// <summary>hrtimer: _softexpires (ns).</summary>
    public ulong? SoftExpires { get; init; }
    /// <summary>Time to expiry at the crash (crash's TTE): jiffies or ns; negative when overdue.</summary>
    public long TimeToExpire { get; init; }
    /// <summary>The address of the struct timer_list or struct hrtimer.</summary>
    public KernelAddress Timer { get; init; }
    /// <summary>The callback's address.</summary>
    public KernelAddress Function { get; init; }
    /// <summary>The callback's symbol, or null.</summary>
    public string? FunctionName { get; init; }
    /// <summary>The callback's module, for a module's timer.</summary>
    public string? Module { get; init; }
    public override string ToString() => $"CPU {Cpu} {Base} {Expires} {TimeToExpire} {Timer:x16} {Function:x16} <{FunctionName}>";
}
