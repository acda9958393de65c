using Kdump.Engine;
namespace Kdump.Engine.Model;

/// <summary>One entry of a wait queue (crash's waitq): the waiting task (PID, TASK, CPU, COMMAND) and the entry itself.</summary>
public sealed class CrashWaitQueueEntry : DumpRecord
{
    /// <summary>The wait_queue_head the entry was found on.</summary>
    public KernelAddress WaitQueue { get; init; }
    /// <summary>Address of the struct wait_queue_entry.</summary>
    public KernelAddress Entry { get; init; }
    /// <summary>wait_queue_entry.private: the waiting task for ordinary waits (autoremove_wake_function, default_wake_function ...).</summary>
    public KernelAddress Task { get; init; }
    /// <summary>The task's PID, or null when <see cref="Task"/> is not a task of the dump (poll and epoll entries keep other data there).</summary>
    public int? Pid { get; init; }
    public int? Cpu { get; init; }
    public string Command { get; init; } = "";
    /// <summary>The wake function (wait_queue_entry.func) as a symbol, e.g. "autoremove_wake_function".</summary>
    public string Function { get; init; } = "";
    /// <summary>wait_queue_entry.flags (WQ_FLAG_EXCLUSIVE 0x01 ...).</summary>
    public uint Flags { get; init; }
    /// <summary>The process object of the waiting task, when it is one.</summary>
    public CrashProcess? Process { get; init; }
    public override string ToString() => Pid is { } p ? $"PID: {p,-6} TASK: {Task:x16}  CPU: {Cpu}  COMMAND: \"{Command}\"" : $"ENTRY: {Entry:x16}  PRIVATE: {Task:x16}  FUNC: {Function}";
}
