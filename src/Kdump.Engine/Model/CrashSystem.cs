namespace Kdump.Engine.Model;

/// <summary>The crashed system at a glance (crash's <c>sys</c>).</summary>
public sealed class CrashSystem : DumpRecord
{
    /// <summary>The vmlinux in use, or where the types came from when there is none ("BTF in the dump ...").</summary>
    public string Kernel { get; init; } = "";
    public string DumpFile { get; init; } = "";
    /// <summary>True when the dump is filtered (makedumpfile -d) or otherwise incomplete: crash's [PARTIAL DUMP].</summary>
    public bool IsPartialDump { get; init; }
    /// <summary>Present CPUs.</summary>
    public int Cpus { get; init; }
    /// <summary>Present CPUs that were not online at the crash (stopped by the panic, or hot-unplugged).</summary>
    public int OfflineCpus { get; init; }
    public IReadOnlyList<int> OnlineCpuList { get; init; } = Array.Empty<int>();
    /// <summary>When the crash happened: the dump header's time, else VMCOREINFO's CRASHTIME, else the timekeeper's wall clock (xtime).</summary>
    public DateTimeOffset? Date { get; init; }
    public TimeSpan? Uptime { get; init; }
    /// <summary>The 1, 5 and 15 minute load averages (avenrun).</summary>
    public IReadOnlyList<double> LoadAverage { get; init; } = Array.Empty<double>();
    /// <summary>crash's spelling: "0.75, 0.23, 0.08".</summary>
    public string LoadAverageText { get; init; } = "";
    public int Tasks { get; init; }
    public string NodeName { get; init; } = "";
    public string Release { get; init; } = "";
    public string Version { get; init; } = "";
    public string Machine { get; init; } = "";
    /// <summary>CPU clock in MHz (cpu_khz / 1000), when known.</summary>
    public int? Mhz { get; init; }
    /// <summary>Bytes of memory (present pages of all nodes × page size).</summary>
    public ulong Memory { get; init; }
    /// <summary>crash's spelling: "255.5 MB".</summary>
    public string MemoryText { get; init; } = "";
    /// <summary>The panic message from the kernel log ("Kernel panic - not syncing: ..."), or empty.</summary>
    public string Panic { get; init; } = "";
    /// <summary>The task that was running on the panic CPU.</summary>
    public CrashProcess? PanicTask { get; init; }
    public int? PanicPid => PanicTask?.Pid;
    public string? PanicCommand => PanicTask?.Command;
    public int? PanicCpu { get; init; }

    public override string ToString() => $"{NodeName} {Release} {Machine}: {Panic}";
}
