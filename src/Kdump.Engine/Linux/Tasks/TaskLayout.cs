using Kdump.Engine.Program;
using Kdump.Engine.Types;

namespace Kdump.Engine.Linux.Tasks;

/// <summary>
/// Member offsets of task_struct (and what hangs off it) resolved once from whatever type finder the program has
/// (BTF from the dump or DWARF), so walking thousands of tasks reads fields directly. Members that moved between
/// kernel versions are optional: __state/state, thread_info.cpu/cpu, signal->thread_head/thread_group.
/// </summary>
internal sealed class TaskLayout
{
    public KType TaskType { get; }
    public ulong Size { get; }
    public ulong Tasks, Pid, Tgid, Flags, RealParent, GroupLeader, Mm, Comm, Signal, ExitState, State;
    public int StateSize, CommLength;
    public ulong? Cpu, ThreadNode, ThreadGroup, SignalThreadHead, TaskRssStat;
    public ulong? Fs, Files;
    /// <summary>Scheduler fields (crash's ps -l / ps -t); null when the type source lacks them.</summary>
    public ulong? LastArrival, StartTime, UTime, STime, Policy, Prio, StaticPrio, RtPriority, SumExecRuntime;

    public TaskLayout(KernelProgram p)
    {
        TaskType = p.RequireType("struct task_struct", "the task list");
        Size = TaskType.Size;
        if (TaskType.Resolve() is not KStructType st || Size == 0)
            throw new KdumpException("TypeIncomplete", KdumpErrorKind.InvalidData, "struct task_struct has no layout in the type source.", "task_struct");
        Tasks = Off("tasks"); Pid = Off("pid"); Tgid = Off("tgid"); Flags = Off("flags");
        RealParent = Opt("real_parent") ?? Off("parent");
        GroupLeader = Off("group_leader"); Mm = Off("mm"); Comm = Off("comm"); ExitState = Off("exit_state");
        Signal = Off("signal");
        if (st.TryFindMember("__state", out var sm, out var sb) || st.TryFindMember("state", out sm, out sb))
        { State = sb / 8; StateSize = (int)sm.Type.Resolve().Size; }
        else throw Missing("__state");
        if (StateSize is not (4 or 8)) StateSize = 8;
        CommLength = CommLengthOf(TaskType);
        Cpu = Opt("thread_info.cpu") ?? Opt("cpu");
        ThreadNode = Opt("thread_node");
        ThreadGroup = Opt("thread_group");
        TaskRssStat = Opt("rss_stat");
        Fs = Opt("fs"); Files = Opt("files");
        LastArrival = Opt("sched_info.last_arrival"); StartTime = Opt("start_time"); UTime = Opt("utime"); STime = Opt("stime");
        Policy = Opt("policy"); Prio = Opt("prio"); StaticPrio = Opt("static_prio"); RtPriority = Opt("rt_priority");
        SumExecRuntime = Opt("se.sum_exec_runtime");
        if (p.TryFindType("struct signal_struct") is { } sig)
            try { SignalThreadHead = KernelObject.MemberOffset(sig, "thread_head"); } catch (KdumpException) { }

        ulong Off(string m) => Opt(m) ?? throw Missing(m);
        ulong? Opt(string m)
        {
            try { return KernelObject.MemberOffset(TaskType, m); }
            catch (KdumpException) { return null; }
        }
        static KdumpException Missing(string m) => new("KernelTypeMissing", KdumpErrorKind.NotFound, $"The kernel type 'struct task_struct' has no member '{m}' (needed for the task list).", $"struct task_struct.{m}");
    }

    /// <summary>TASK_COMM_LEN: the length of task_struct.comm's array in the kernel's types (16 on every kernel so far, but read, not assumed).</summary>
    public static int CommLengthOf(KType taskStruct)
    {
        ulong n = KernelLayout.RequireArrayLength(taskStruct, "struct task_struct", "comm", "task names (TASK_COMM_LEN)");
        if (n > 256) throw new KdumpException("KernelTypeInvalid", KdumpErrorKind.InvalidData, $"struct task_struct.comm has {n} bytes; TASK_COMM_LEN is far smaller.", "struct task_struct.comm");
        return (int)n;
    }
}
