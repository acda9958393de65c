using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Program;

namespace Kdump.Engine.Linux.Stack;

/// <summary>
/// Resolves the tasks Get-CrashBacktrace is asked for when no task table is at hand: a task_struct address, the
/// task running on each CPU (per-CPU runqueues.curr), and the panic task (the task running on panic_cpu).
/// </summary>
public static class BacktraceTargets
{
    /// <summary>Number of CPUs: nr_cpu_ids (bounded), else the dump's CPU notes.</summary>
    public static int CpuCount(KernelProgram p)
    {
        try { return p.PerCpuOffsets.Count; } catch (KdumpException) { return Math.Max(1, p.Cpus.Count); }
    }

    /// <summary>The task running on a CPU: runqueues.curr, else pcpu_hot.current_task / current_task.</summary>
    public static ulong? ActiveTask(KernelProgram p, int cpu)
    {
        try { if (p.FindSymbol("runqueues") is not null) { ulong t = p.PerCpu("runqueues", cpu).Member("curr").ReadPointer(); if (t != 0) return t; } }
        catch (KdumpException) { }
        try
        {
            if (p.FindSymbol("pcpu_hot") is not null) return p.PerCpu("pcpu_hot", cpu).Member("current_task").ReadPointer();
            if (p.FindSymbol("current_task") is { } ct) return p.ReadU64(p.PerCpuAddress(ct.Address, cpu));
        }
        catch (KdumpException) { }
        return null;
    }

    /// <summary>The CPU that panicked: panic_cpu (atomic_t, -1 when none), else the dump header's.</summary>
    public static int? PanicCpu(KernelProgram p, int? dumpHint)
    {
        try
        {
            if (p.FindSymbol("panic_cpu") is { } s)
            {
                int v = unchecked((int)p.ReadU32(s.Address));
                if (v >= 0 && v < CpuCount(p)) return v;
            }
        }
        catch (KdumpException) { }
        return dumpHint;
    }

    /// <summary>A target for the task_struct at <paramref name="task"/>, marking it active when a CPU runs it.</summary>
    public static BacktraceTarget ForTask(KernelProgram p, ulong task, int? panicCpu)
    {
        var t = p.Object(task, "struct task_struct");
        int pid = t.ReadField<int>("pid");
        string comm = t.Member("comm").ReadString(TaskLayout.CommLengthOf(t.Type));
        int cpu = t.HasMember("cpu") ? t.ReadField<int>("cpu") : t.TryReadField<int>("thread_info.cpu", out var c) ? c : 0;
        bool active = false;
        int n = CpuCount(p);
        for (int i = 0; i < n && !active; i++)
            if (ActiveTask(p, i) == task) { active = true; cpu = i; }
        return new BacktraceTarget(task, pid, comm, cpu, active, active && panicCpu == cpu);
    }

    /// <summary>Hard limit on tasks walked when looking a pid up.</summary>
    public const int MaxTasks = 4 * 1024 * 1024;

    /// <summary>task_struct addresses with this pid: every thread of every process (pid 0: each CPU's idle task).</summary>
    public static List<ulong> FindByPid(KernelProgram p, int pid, CancellationToken cancellation = default)
    {
        var found = new List<ulong>();
        var type = p.FindType("struct task_struct");
        if (pid == 0)
        {
            for (int cpu = 0; cpu < CpuCount(p); cpu++)
            {
                try { ulong idle = p.PerCpu("runqueues", cpu).Member("idle").ReadPointer(); if (idle != 0 && !found.Contains(idle)) found.Add(idle); }
                catch (KdumpException) { }
            }
            if (found.Count == 0 && p.FindSymbol("init_task") is { } it) found.Add(it.Address);
            return found;
        }
        var init = p.GetSymbol("init_task").Address;
        var leader = new KernelObject(p, init, type);
        bool threadHead = leader.HasMember("thread_node") && leader.Member("signal").Deref().HasMember("thread_head");
        int seen = 0;
        foreach (var proc in p.ListForEachEntry(init + KernelObject.MemberOffset(type, "tasks"), type, "tasks", MaxTasks))
        {
            if ((++seen & 255) == 0) cancellation.ThrowIfCancellationRequested();
            IEnumerable<KernelObject> threads;
            try
            {
                threads = threadHead
                    ? p.ListForEachEntry(proc.Member("signal").ReadPointer() + KernelObject.MemberOffset(p.FindType("struct signal_struct"), "thread_head"), type, "thread_node", MaxTasks).ToList()
                    : new[] { proc }.Concat(p.ListForEachEntry(proc.Address + KernelObject.MemberOffset(type, "thread_group"), type, "thread_group", MaxTasks)).ToList();
            }
            catch (KdumpException) { threads = new[] { proc }; }
            foreach (var t in threads)
            {
                try { if (t.ReadField<int>("pid") == pid && !found.Contains(t.Address)) found.Add(t.Address); }
                catch (KdumpException) { }
            }
        }
        return found;
    }
}
