using System.Globalization;
using System.Numerics;
using Kdump.Engine.Linux.Printk;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.Engine.Program;

namespace Kdump.Engine.Linux.Sys;

/// <summary>
/// The facts of crash's <c>sys</c>: utsname (init_uts_ns), CPUs present/online (cpu masks), crash time, uptime
/// (timekeeper: xtime + wall_to_monotonic + offs_boot), load average (avenrun), task count, memory (present pages),
/// the panic message (from the kernel log) and the panic task.
/// </summary>
public static class SystemInfo
{
    public static CrashSystem Read(Vmcore vmcore, CancellationToken cancellation = default, Action<string>? warning = null)
    {
        var p = vmcore.Kernel;
        var warn = warning ?? (_ => { });
        var table = TaskTable.Get(p, vmcore, null, cancellation);
        foreach (var w in table.Warnings) warn(w);

        string sysname = "", node = "", release = vmcore.KernelRelease ?? "", version = vmcore.KernelVersion ?? "", machine = vmcore.Architecture ?? "";
        try
        {
            var uts = p.Variable("init_uts_ns").Member("name");
            node = uts.Member("nodename").ReadString(65);
            release = uts.Member("release").ReadString(65);
            version = uts.Member("version").ReadString(65);
            machine = uts.Member("machine").ReadString(65);
            sysname = uts.Member("sysname").ReadString(65);
        }
        catch (KdumpException ex) { warn($"Cannot read init_uts_ns: {ex.Message}"); node = vmcore.NodeName ?? ""; }
        _ = sysname;

        var present = CpuMask(p, "__cpu_present_mask", "cpu_present_bits");
        var online = CpuMask(p, "__cpu_online_mask", "cpu_online_bits");
        int cpus = present?.Count ?? vmcore.CpuCount ?? p.PerCpuOffsets.Count;
        int offline = present is not null && online is not null ? present.Count(c => !online.Contains(c)) : 0;

        var uptime = Uptime(p, out var wall);
        ulong presentPages = SystemPages.Present(p);
        ulong memory = presentPages * (ulong)vmcore.PageSize;

        return new CrashSystem
        {
            Vmcore = vmcore,
            Kernel = vmcore.Vmlinux ?? $"(no vmlinux: {p.TypeSourceText})",
            DumpFile = vmcore.Path,
            IsPartialDump = (vmcore.DumpLevel ?? 0) != 0 || vmcore.Incomplete,
            Cpus = cpus, OfflineCpus = offline, OnlineCpuList = online?.ToArray() ?? Array.Empty<int>(),
            Date = vmcore.Timestamp ?? wall,
            Uptime = uptime,
            LoadAverage = LoadAverage(p, out var lat), LoadAverageText = lat,
            Tasks = table.Tasks.Count,
            NodeName = node, Release = release, Version = version, Machine = machine,
            Mhz = Mhz(p),
            Memory = memory, MemoryText = SizeText(memory),
            Panic = PanicMessage(p, warn),
            PanicTask = table.PanicTask, PanicCpu = table.PanicCpu,
        };
    }

    /// <summary>crash's size spelling: one decimal, KB/MB/GB/TB, ".0" dropped.</summary>
    public static string SizeText(ulong bytes)
    {
        string[] units = { "KB", "MB", "GB", "TB" };
        double v = bytes / 1024.0;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        string s = v.ToString("0.0", CultureInfo.InvariantCulture);
        if (s.EndsWith(".0", StringComparison.Ordinal)) s = s[..^2];
        return s + " " + units[u];
    }

    private static List<int>? CpuMask(KernelProgram p, params string[] names)
    {
        foreach (var n in names)
        {
            if (p.FindSymbol(n) is not { } s) continue;
            try
            {
                int ncpu = Math.Max(1, p.PerCpuOffsets.Count);
                int words = (ncpu + 63) / 64;
                var list = new List<int>();
                for (int w = 0; w < words; w++)
                {
                    ulong bits = p.ReadU64(s.Address + (ulong)w * 8);
                    for (int b = 0; b < 64 && w * 64 + b < ncpu; b++) if ((bits & (1UL << b)) != 0) list.Add(w * 64 + b);
                }
                return list;
            }
            catch (KdumpException) { }
        }
        return null;
    }

    /// <summary>
    /// Where tk_core's timekeeper lies when tk_core's own type is not described (BTF has no type for it): struct
    /// tk_data.timekeeper (Linux ≥ 6.13), else after the leading seqcount_raw_spinlock_t, aligned like the timekeeper.
    /// </summary>
    private static ulong TimekeeperOffset(KernelProgram p)
    {
        if (p.TryFindType("struct tk_data") is { } td) return KernelLayout.RequireOffset(td, "struct tk_data", "timekeeper", "the uptime");
        ulong seq = p.RequireType("seqcount_raw_spinlock_t", "the uptime (tk_core.seq)").Size;
        const ulong align = 8; // struct timekeeper starts with pointers and u64s
        return (seq + align - 1) & ~(align - 1);
    }

    /// <summary>
    /// Uptime as crash's sys shows it: by the tick count (jiffies since INITIAL_JIFFIES at the tick rate), which can
    /// trail the timekeeper's CLOCK_BOOTTIME by a tick or more, so a whole-second truncation of either may differ;
    /// the timekeeper's time when the tick rate cannot be told. Whole seconds.
    /// </summary>
    private static TimeSpan? Uptime(KernelProgram p, out DateTimeOffset? wallClock)
    {
        ulong? boot = BootNanoseconds(p, out wallClock);
        ulong? ns = boot;
        try { ns = Sched.KernelClock.Read(p).UptimeNanoseconds ?? boot; }
        catch (KdumpException) { }
        if (ns is not { } n) return null;
        long secs = (long)(n / 1_000_000_000);
        return secs < 100L * 365 * 86400 ? TimeSpan.FromSeconds(secs) : null;
    }

    /// <summary>
    /// Time since boot at the crash in ns (CLOCK_BOOTTIME as of the timekeeper's last update: xtime + wall_to_monotonic
    /// + offs_boot), and the wall clock; null when the timekeeper cannot be read or is implausible.
    /// </summary>
    public static ulong? BootNanoseconds(KernelProgram p, out DateTimeOffset? wallClock)
    {
        wallClock = null;
        try
        {
            var tkType = p.FindType("struct timekeeper");
            ulong tk = CoreTimekeeper(p);
            long xtime = (long)p.ReadU64(tk + KernelObject.MemberOffset(tkType, "xtime_sec"));
            long wtm = (long)p.ReadU64(tk + KernelObject.MemberOffset(tkType, "wall_to_monotonic.tv_sec"));
            long wtmNs = (long)p.ReadU64(tk + KernelObject.MemberOffset(tkType, "wall_to_monotonic.tv_nsec"));
            ulong xnsec = p.ReadU64(tk + KernelObject.MemberOffset(tkType, "tkr_mono.xtime_nsec"));
            int shift = (int)p.ReadU32(tk + KernelObject.MemberOffset(tkType, "tkr_mono.shift")) & 63;
            long offsBoot = 0;
            try { offsBoot = (long)p.ReadU64(tk + KernelObject.MemberOffset(tkType, "offs_boot")); } catch (KdumpException) { }
            var ns = (BigInteger)(xtime + wtm) * 1_000_000_000 + (long)(xnsec >> shift) + wtmNs + offsBoot;
            if (xtime is > 0 and < 253402300799) wallClock = DateTimeOffset.FromUnixTimeSeconds(xtime);
            return ns >= 0 && ns < (BigInteger)100 * 365 * 86400 * 1_000_000_000 ? (ulong)ns : null;
        }
        catch (KdumpException) { return null; }
    }

    /// <summary>
    /// The core timekeeper: tk_core.timekeeper, or from Linux 6.17 (auxiliary clocks) timekeeper_data[TIMEKEEPER_CORE = 0]
    /// .timekeeper; both are a struct tk_data { seqcount_raw_spinlock_t seq; struct timekeeper timekeeper; ... }.
    /// </summary>
    internal static ulong CoreTimekeeper(KernelProgram p)
    {
        try { return p.Variable("tk_core").Member("timekeeper").Address; } catch (KdumpException) { }
        var data = p.FindSymbol("tk_core") ?? p.FindSymbol("timekeeper_data")
            ?? throw new KdumpException("SymbolNotFound", KdumpErrorKind.NotFound, $"Neither tk_core nor timekeeper_data is known ({p.SymbolSourceText}).", "tk_core");
        return data.Address + TimekeeperOffset(p);
    }

    private static IReadOnlyList<double> LoadAverage(KernelProgram p, out string text)
    {
        text = "";
        try
        {
            ulong a = p.GetSymbol("avenrun").Address;
            var values = new double[3];
            var parts = new string[3];
            for (int i = 0; i < 3; i++)
            {
                ulong v = p.ReadU64(a + (ulong)i * 8);
                values[i] = v / 2048.0;
                ulong r = v + 2048 / 200; // the kernel's /proc/loadavg rounding (FIXED_1/200)
                parts[i] = $"{r >> 11}.{((r & 2047) * 100) >> 11:00}";
            }
            text = string.Join(", ", parts);
            return values;
        }
        catch (KdumpException) { return Array.Empty<double>(); }
    }

    private static int? Mhz(KernelProgram p)
    {
        foreach (var n in new[] { "cpu_khz", "tsc_khz" })
        {
            try { if (p.FindSymbol(n) is { } s && p.ReadU32(s.Address) is var k && k > 0) return (int)(k / 1000); }
            catch (KdumpException) { }
        }
        return null;
    }

    /// <summary>
    /// The panic message as crash shows it: the last "Kernel panic - not syncing: ..." of the log; else the sysrq crash
    /// trigger ("sysrq: Trigger a crash"); else the last Oops/BUG line.
    /// </summary>
    public static string PanicMessage(KernelProgram p, Action<string>? warn = null)
    {
        if (p.VmcoreInfo is null) return "";
        string? panic = null, sysrq = null, oops = null;
        try
        {
            foreach (var r in PrintkLog.EnumerateRecords(p.VmcoreInfo, p.ReadKernel, null, null, _ => { }))
            {
                foreach (var line in r.Text.Split('\n'))
                {
                    int i = line.IndexOf("Kernel panic - not syncing", StringComparison.Ordinal);
                    if (i >= 0) { panic = line[i..].TrimEnd(); continue; }
                    if (line.Contains("Trigger a crash", StringComparison.Ordinal) && line.StartsWith("sysrq", StringComparison.OrdinalIgnoreCase)) sysrq = line.Trim();
                    else if (line.StartsWith("BUG: ", StringComparison.Ordinal) || line.StartsWith("Oops: ", StringComparison.Ordinal)) oops ??= line.Trim();
                }
            }
        }
        catch (KdumpException ex) { warn?.Invoke($"Cannot read the kernel log for the panic message: {ex.Message}"); }
        return panic ?? sysrq ?? oops ?? "";
    }
}
