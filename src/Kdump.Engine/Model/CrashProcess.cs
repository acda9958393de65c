using Kdump.Engine;
namespace Kdump.Engine.Model;

/// <summary>
/// One task (thread) of the crashed kernel, as crash's <c>ps</c> shows it: per-CPU idle tasks, kernel threads and
/// every thread of every process. Sizes are KiB.
/// </summary>
public sealed class CrashProcess : DumpRecord
{
    public int Pid { get; init; }
    /// <summary>The pid of the real parent (0 for the idle tasks, init and kthreadd).</summary>
    public int Ppid { get; init; }
    /// <summary>Thread-group id: the pid of the process this thread belongs to.</summary>
    public int Tgid { get; init; }
    /// <summary>The CPU the task last ran on (task_cpu()).</summary>
    public int Cpu { get; init; }
    /// <summary>The address of the task_struct.</summary>
    public KernelAddress Task { get; init; }
    /// <summary>crash's state letters: RU IN UN ST TR ZO DE ID WA PA NE (or ?? when unknown).</summary>
    public string State { get; init; } = "";
    /// <summary>The raw task state (__state or state).</summary>
    public ulong StateValue { get; init; }
    public int ExitState { get; init; }
    /// <summary>task_struct.flags (PF_*).</summary>
    public uint Flags { get; init; }
    /// <summary>Resident memory as a percentage of the system's memory pages, as crash computes %MEM.</summary>
    public double MemoryPercent { get; init; }
    /// <summary>Virtual size in KiB (mm->total_vm pages).</summary>
    public ulong Vsz { get; init; }
    /// <summary>Resident size in KiB (file + anon + shmem pages).</summary>
    public ulong Rss { get; init; }
    /// <summary>task_struct.comm.</summary>
    public string Command { get; init; } = "";
    /// <summary>crash's '&gt;' marker: this task was running on its CPU at the crash.</summary>
    public bool IsActive { get; init; }
    public bool IsKernelThread { get; init; }
    /// <summary>A per-CPU idle task (swapper/N, pid 0).</summary>
    public bool IsIdle { get; init; }
    public bool IsThreadGroupLeader => Pid == Tgid;
    /// <summary>The task running the panic (the active task of the panic CPU).</summary>
    public bool IsPanicTask { get; init; }
    /// <summary>task_struct.mm (0 for kernel threads).</summary>
    public KernelAddress Mm { get; init; }
    /// <summary>The real parent's task_struct address.</summary>
    public KernelAddress ParentTask { get; init; }
    /// <summary>The thread-group leader's task_struct address.</summary>
    public KernelAddress GroupLeader { get; init; }
    /// <summary>What could not be read for this task (memory counters in excluded pages ...), or null.</summary>
    public string? Problem { get; init; }

    /// <summary>When the task last began running on a CPU (sched_info.last_arrival, ns since boot): crash's ps -l timestamp.</summary>
    public ulong? LastArrival { get; init; }
    /// <summary>When the task was created (task_struct.start_time, ns of monotonic time since boot).</summary>
    public ulong? StartTime { get; init; }
    /// <summary>User CPU time in ns (task_struct.utime): crash's ps -t UTIME.</summary>
    public ulong? UserTime { get; init; }
    /// <summary>System CPU time in ns (task_struct.stime): crash's ps -t STIME.</summary>
    public ulong? SystemTime { get; init; }
    /// <summary>CPU time the scheduler accounted to the task, ns (se.sum_exec_runtime).</summary>
    public ulong? SumExecRuntime { get; init; }
    /// <summary>The scheduling policy number (task_struct.policy).</summary>
    public uint? PolicyValue { get; init; }
    /// <summary>The scheduling policy: NORMAL, FIFO, RR, BATCH, IDLE, DEADLINE.</summary>
    public string? Policy => PolicyValue switch
    {
        null => null, 0 => "NORMAL", 1 => "FIFO", 2 => "RR", 3 => "BATCH", 5 => "IDLE", 6 => "DEADLINE",
        { } v => v.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
    /// <summary>The effective priority (task_struct.prio: 0-99 real-time, 100-139 normal; crash's runq [prio]).</summary>
    public int? Priority { get; init; }
    /// <summary>task_struct.static_prio (120 + nice).</summary>
    public int? StaticPriority { get; init; }
    /// <summary>task_struct.rt_priority (1-99 for FIFO/RR, else 0).</summary>
    public uint? RtPriority { get; init; }
    /// <summary>The nice value (static_prio - 120).</summary>
    public int? Nice => StaticPriority is { } sp ? sp - 120 : null;
    /// <summary>The clock of the run queue of the task's CPU at the crash (rq->clock, ns).</summary>
    public ulong? RunQueueClock { get; init; }
    /// <summary>How long before the crash the task last began running: its CPU's rq clock minus <see cref="LastArrival"/>
    /// (for a sleeping task: how long it has been off the CPU at most; crash's ps -m figure).</summary>
    public TimeSpan? SinceLastRun => RunQueueClock is { } c && LastArrival is { } la and > 0 && c >= la ? TimeSpan.FromTicks((long)((c - la) / 100)) : null;
    /// <summary>Time since boot at the crash (ns; by jiffies, as crash counts it).</summary>
    public ulong? BootTime { get; init; }
    /// <summary>Age of the task at the crash: time since boot minus <see cref="StartTime"/> (crash's ps -t RUN TIME, which rounds to seconds).</summary>
    public TimeSpan? RunTime => BootTime is { } b && StartTime is { } st ? TimeSpan.FromTicks((long)((b > st ? b - st : 0) / 100)) : null;

    /// <summary>The command as crash prints it: kernel threads in brackets.</summary>
    public string DisplayCommand => IsKernelThread ? "[" + Command + "]" : Command;

    public override string ToString() => $"{(IsActive ? ">" : " ")}{Pid,7} {Ppid,7} {Cpu,3} {Task:x16} {State} {DisplayCommand}";
}
