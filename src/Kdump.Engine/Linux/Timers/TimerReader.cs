using Kdump.Engine.Linux.Sched;
using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Types;

namespace Kdump.Engine.Linux.Timers;

/// <summary>
/// Pending timers of every CPU: the timer wheels (per-CPU timer_bases[NR_BASES], each vectors[WHEEL_SIZE] of hlists
/// of timer_list.entry) sorted by expiry, and the high-resolution timers (per-CPU hrtimer_bases.clock_base[], each
/// an rb-tree of timerqueue_node, first member of struct hrtimer, in expiry order). Times to expiry are taken
/// against jiffies and against the jiffies uptime in ns, as crash does.
/// </summary>
public sealed class TimerReader
{
    /// <summary>Upper bound on the timers of one base.</summary>
    public const int MaxTimers = 1 << 20;

    private readonly KernelProgram _p;
    private readonly Vmcore? _owner;

    public KernelClock Clock { get; }

    public TimerReader(KernelProgram program, Vmcore? owner = null)
    {
        _p = program;
        _owner = owner;
        Clock = KernelClock.Read(program);
    }

    private (string? Name, string? Module) Symbol(ulong fn)
    {
        if (fn == 0) return (null, null);
        var s = _p.Symbolize(fn);
        return s is null ? (null, null) : (s.Value.Offset == 0 ? s.Value.Symbol.Name : $"{s.Value.Symbol.Name}+0x{s.Value.Offset:x}", s.Value.Symbol.Module);
    }

    /// <summary>The timer wheels' timers: per CPU, per base, by expiry.</summary>
    public IEnumerable<CrashTimer> WheelTimers(IReadOnlyCollection<int>? cpus = null, Action<string>? warn = null, CancellationToken cancellation = default)
    {
        var bases = _p.Variable("timer_bases");
        if (bases.ResolvedType is not KArrayType arr || arr.Count == 0)
            throw new KdumpException("TypeIncomplete", KdumpErrorKind.InvalidData, "timer_bases is not an array of struct timer_base.", "timer_bases");
        var tb = arr.Element;
        ulong tbSize = tb.Size;
        ulong vecOff = KernelObject.MemberOffset(tb, "vectors");
        int nvec = tb.Resolve() is KStructType st && st.TryFindMember("vectors", out var vm, out _) && vm.Type.Resolve() is KArrayType { Count: > 0 and <= 65536 } va ? (int)va.Count : throw new KdumpException("TypeIncomplete", KdumpErrorKind.InvalidData, "struct timer_base has no vectors[] array.", "timer_base");
        var tl = _p.FindType("struct timer_list");
        ulong entry = KernelObject.MemberOffset(tl, "entry"), expires = KernelObject.MemberOffset(tl, "expires"), function = KernelObject.MemberOffset(tl, "function");
        var names = BaseNames((int)arr.Count);
        int ncpu = _p.PerCpuOffsets.Count;
        for (int cpu = 0; cpu < ncpu; cpu++)
        {
            if (cpus is { Count: > 0 } && !cpus.Contains(cpu)) continue;
            for (int b = 0; b < (int)arr.Count; b++)
            {
                cancellation.ThrowIfCancellationRequested();
                ulong baseAddr = _p.PerCpuAddress(bases.Address, cpu) + (ulong)b * tbSize;
                var list = new List<CrashTimer>();
                try
                {
                    for (int v = 0; v < nvec; v++)
                    {
                        foreach (var node in _p.HlistForEach(baseAddr + vecOff + (ulong)v * 8, MaxTimers))
                        {
                            if (list.Count >= MaxTimers) throw new KdumpException("ListTooLong", KdumpErrorKind.LimitExceeded, $"More than {MaxTimers} timers on one base.", baseAddr);
                            ulong t = node - entry;
                            ulong exp = _p.ReadU64(t + expires), fn = _p.ReadU64(t + function);
                            var (name, module) = Symbol(fn);
                            list.Add(new CrashTimer
                            {
                                Vmcore = _owner, Cpu = cpu, Kind = "timer_list", Base = names[b], BaseAddress = baseAddr, Expires = exp,
                                TimeToExpire = unchecked((long)(exp - Clock.Jiffies)), Timer = t, Function = fn, FunctionName = name, Module = module,
                            });
                        }
                    }
                }
                catch (KdumpException ex) { warn?.Invoke($"CPU {cpu} {names[b]}: the timer wheel at 0x{baseAddr:x} ends early after {list.Count} timers: {ex.Message}"); }
                foreach (var t in list.OrderBy(t => t.TimeToExpire).ThenBy(t => t.Timer)) yield return t;
            }
        }
    }

    private string[] BaseNames(int n)
    {
        // BASE_STD/BASE_DEF are #defines (no enumerators in BTF or DWARF) on most kernels: name them by count, as
        // kernel/time/timer.c lays them out (NO_HZ_COMMON: STD, DEF; 6.9+: LOCAL, GLOBAL, DEF)
        var names = n switch
        {
            1 => new[] { "BASE_STD" },
            2 => new[] { "BASE_STD", "BASE_DEF" },
            3 => new[] { "BASE_LOCAL", "BASE_GLOBAL", "BASE_DEF" },
            _ => Enumerable.Range(0, n).Select(i => $"BASE_{i}").ToArray(),
        };
        foreach (var e in new[] { "BASE_STD", "BASE_DEF", "BASE_LOCAL", "BASE_GLOBAL" })
            if (_p.TryFindEnumerator(e, out long v) && v >= 0 && v < n) names[v] = e;
        return names;
    }

    /// <summary>
    /// The clock a hrtimer_clock_base reads, by its clockid (Linux 7.0 dropped hrtimer_clock_base.get_time and
    /// switches on clockid instead): the timekeeping function older kernels stored in get_time for that clock.
    /// </summary>
    public static string? ClockFunctionOf(long clockid) => clockid switch
    {
        0 => "ktime_get_real",      // CLOCK_REALTIME
        1 => "ktime_get",           // CLOCK_MONOTONIC
        7 => "ktime_get_boottime",  // CLOCK_BOOTTIME
        11 => "ktime_get_clocktai", // CLOCK_TAI
        _ => null,
    };

    /// <summary>
    /// Offset of the rb_node in struct hrtimer: hrtimer.node is a timerqueue_node (rb_node node; expires) or, since
    /// Linux 7.0, a timerqueue_linked_node (rb_node_linked node { rb_node node; prev; next }; expires).
    /// </summary>
    private static ulong RbNodeOffset(KType hrtimer)
    {
        ulong off = 0;
        KType t = hrtimer;
        for (int depth = 0; depth < 4; depth++)
        {
            if (t.Resolve() is KStructType { Name: "rb_node" }) return off;
            if (t.Resolve() is not KStructType st || !st.TryFindMember("node", out var m, out var bits))
                break;
            off += bits / 8;
            t = m.Type;
        }
        if (t.Resolve() is KStructType { Name: "rb_node" }) return off;
        throw new KdumpException("TypeIncomplete", KdumpErrorKind.InvalidData, "struct hrtimer has no rb_node under its node member.", "hrtimer");
    }

    /// <summary>The high-resolution timers: per CPU, per clock base, by expiry.</summary>
    public IEnumerable<CrashTimer> HrTimers(IReadOnlyCollection<int>? cpus = null, Action<string>? warn = null, CancellationToken cancellation = default)
    {
        var cpuBase = _p.Variable("hrtimer_bases");
        var cbt = cpuBase.Type;
        ulong cbOff = KernelObject.MemberOffset(cbt, "clock_base");
        if (cbt.Resolve() is not KStructType st || !st.TryFindMember("clock_base", out var cm, out _) || cm.Type.Resolve() is not KArrayType { Count: > 0 and <= 64 } ca)
            throw new KdumpException("TypeIncomplete", KdumpErrorKind.InvalidData, "struct hrtimer_cpu_base has no clock_base[] array.", "hrtimer_cpu_base");
        var hcb = ca.Element;
        ulong hcbSize = hcb.Size;
        ulong active = KernelObject.MemberOffset(hcb, "active");
        // the clock: get_time (a function pointer) before Linux 7.0, clockid after
        ulong? getTime = Opt(hcb, "get_time"), clockid = getTime is null ? Opt(hcb, "clockid") : null;
        ulong? offset = Opt(hcb, "offset");
        var hr = _p.FindType("struct hrtimer");
        // hrtimer.node.expires is the hard expiry whatever the node's type; the rb_node is nested in it
        ulong rbOff = RbNodeOffset(hr), expires = KernelObject.MemberOffset(hr, "node.expires");
        ulong soft = KernelObject.MemberOffset(hr, "_softexpires"), function = KernelObject.MemberOffset(hr, "function");
        long now = (long)(Clock.UptimeNanoseconds ?? 0);
        int ncpu = _p.PerCpuOffsets.Count;
        for (int cpu = 0; cpu < ncpu; cpu++)
        {
            if (cpus is { Count: > 0 } && !cpus.Contains(cpu)) continue;
            ulong cb = _p.PerCpuAddress(cpuBase.Address, cpu);
            for (int c = 0; c < (int)ca.Count; c++)
            {
                cancellation.ThrowIfCancellationRequested();
                ulong baseAddr = cb + cbOff + (ulong)c * hcbSize;
                var list = new List<CrashTimer>();
                try
                {
                    string? clockFn = getTime is { } gto ? Symbol(_p.ReadU64(baseAddr + gto)).Name
                        : clockid is { } cio ? ClockFunctionOf(unchecked((int)_p.ReadU32(baseAddr + cio))) : null;
                    // a clock's time is monotonic time plus the base's offset (realtime, boottime, tai)
                    long baseNow = now + (offset is { } oo ? (long)_p.ReadU64(baseAddr + oo) : 0);
                    foreach (var rb in _p.RbTreeInOrder(baseAddr + active, MaxTimers))
                    {
                        ulong t = rb - rbOff;
                        ulong exp = _p.ReadU64(t + expires), sexp = _p.ReadU64(t + soft), fn = _p.ReadU64(t + function);
                        var (name, module) = Symbol(fn);
                        list.Add(new CrashTimer
                        {
                            Vmcore = _owner, Cpu = cpu, Kind = "hrtimer", Base = $"CLOCK {c}", BaseAddress = baseAddr, Clock = c, ClockFunction = clockFn,
                            Expires = exp, SoftExpires = sexp, TimeToExpire = unchecked((long)exp - baseNow), Timer = t, Function = fn, FunctionName = name, Module = module,
                        });
                    }
                }
                catch (KdumpException ex) { warn?.Invoke($"CPU {cpu} CLOCK {c}: the hrtimer queue at 0x{baseAddr:x} ends early after {list.Count} timers: {ex.Message}"); }
                foreach (var t in list) yield return t;
            }
        }
    }

    private static ulong? Opt(KType t, string m)
    {
        try { return KernelObject.MemberOffset(t, m); }
        catch (KdumpException) { return null; }
    }
}
