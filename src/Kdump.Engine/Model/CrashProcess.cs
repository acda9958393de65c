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

    /// <summary>The command as crash prints it: kernel threads in brackets.</summary>
    public string DisplayCommand => IsKernelThread ? "[" + Command + "]" : Command;

    public override string ToString() => $"{(IsActive ? ">" : " ")}{Pid,7} {Ppid,7} {Cpu,3} {Task:x16} {State} {DisplayCommand}";
}
