using Kdump.Engine.Program;
using Kdump.Engine.Types;

namespace Kdump.Engine.Linux.Stack;

/// <summary>
/// Finds the stacks a task's trace may cross: its own stack (task->stack, THREAD_SIZE), and, for a task running on a
/// CPU, that CPU's hard-IRQ stack (per-CPU hardirq_stack_ptr, or pcpu_hot.hardirq_stack_ptr from 6.2) and exception
/// stacks (per-CPU cea_exception_stacks: DF, NMI, DB, MCE, VC, VC2).
/// </summary>
public static class KernelStacks
{
    public const ulong DefaultThreadSize = 16 * 1024;
    public const ulong IrqStackSize = 16 * 1024;

    private static readonly (string Member, string Name)[] s_exceptionStacks =
    {
        ("DF_stack", "DOUBLEFAULT exception"), ("NMI_stack", "NMI exception"), ("DB_stack", "DEBUG exception"),
        ("MCE_stack", "MCE exception"), ("VC_stack", "VC exception"), ("VC2_stack", "VC2 exception"),
    };

    /// <summary>THREAD_SIZE: sizeof(union thread_union) when the types know it, else 16 KiB.</summary>
    public static ulong ThreadSize(KernelProgram p)
    {
        try { if (p.TryFindType("union thread_union") is { } t && t.Size is >= 4096 and <= 1 << 20) return t.Size; }
        catch (KdumpException) { }
        return DefaultThreadSize;
    }

    /// <summary>The task's own stack.</summary>
    public static StackRange? TaskStack(KernelProgram p, KernelObject task)
    {
        ulong stack = task.Member("stack").ReadPointer();
        if (stack == 0) return null;
        return new StackRange(stack, stack + ThreadSize(p), "task");
    }

    /// <summary>A CPU's IRQ and exception stacks (those that can be found; problems go to <paramref name="warnings"/>).</summary>
    public static List<StackRange> CpuStacks(KernelProgram p, int cpu, List<string> warnings)
    {
        var list = new List<StackRange>();
        try
        {
            ulong top = 0;
            if (p.FindSymbol("hardirq_stack_ptr") is not null) top = p.PerCpu("hardirq_stack_ptr", cpu).ReadPointer();
            else if (p.FindSymbol("pcpu_hot") is not null) top = p.PerCpu("pcpu_hot", cpu).Member("hardirq_stack_ptr").ReadPointer();
            // hardirq_stack_ptr points at the last word of the stack (where the previous stack pointer is saved).
            ulong pageMask = (ulong)p.PageSize - 1;
            if (top != 0) { ulong end = (top + 8 + pageMask) & ~pageMask; list.Add(new StackRange(end - IrqStackSize, end, "IRQ")); }
        }
        catch (KdumpException ex) { warnings.Add($"CPU {cpu}: IRQ stack unknown: {ex.Message}"); }
        try
        {
            if (p.FindSymbol("cea_exception_stacks") is not null)
            {
                var ces = p.PerCpu("cea_exception_stacks", cpu);
                ulong basePtr = ces.ReadPointer();
                var type = p.TryFindType("struct cea_exception_stacks");
                if (basePtr != 0 && type?.Resolve() is KStructType st)
                {
                    foreach (var (member, name) in s_exceptionStacks)
                    {
                        if (!st.TryFindMember(member, out var m, out var bits)) continue;
                        ulong size = m.Type.Size;
                        if (size == 0 || size > 1 << 20) continue;
                        ulong start = basePtr + bits / 8;
                        list.Add(new StackRange(start, start + size, name));
                    }
                }
            }
        }
        catch (KdumpException ex) { warnings.Add($"CPU {cpu}: exception stacks unknown: {ex.Message}"); }
        return list;
    }
}
