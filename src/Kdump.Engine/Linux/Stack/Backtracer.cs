using System.Globalization;
using Kdump.Engine.Dump;
using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Types;

namespace Kdump.Engine.Linux.Stack;

/// <summary>The task a backtrace is asked for (from the task table: Get-CrashProcess output or a lookup).</summary>
public readonly record struct BacktraceTarget(ulong Task, int Pid, string Command, int Cpu, bool IsActive, bool IsPanicTask);

/// <summary>
/// Builds kernel backtraces: a task running on a CPU starts from that CPU's NT_PRSTATUS registers (and may cross its
/// IRQ and exception stacks); a sleeping task starts from the struct inactive_task_frame at task->thread.sp
/// (r15 r14 r13 r12 bx bp ret_addr on x86_64, offsets from the type finder). Frames come from the ORC unwinder
/// (frame pointers where there is no ORC data) and are named through the program's symbol finders (kernel and
/// module kallsyms).
/// </summary>
public sealed class Backtracer : IKernelBacktracer
{
    private readonly KernelProgram _p;
    private readonly Vmcore? _vmcore;
    private readonly KernelUnwindInfo _info;
    private readonly IStackMemory _mem;

    public Backtracer(KernelProgram program, Vmcore? vmcore = null)
    {
        _p = program ?? throw new ArgumentNullException(nameof(program));
        _vmcore = vmcore;
        _info = KernelUnwindInfo.For(program);
        _mem = new ProgramStackMemory(program);
    }

    /// <summary>Notes from loading the unwind tables.</summary>
    public IReadOnlyList<string> Notes => _info.Notes;

    /// <summary>The NT_PRSTATUS registers of a CPU, when the dump has them.</summary>
    public CpuState? CpuRegisters(int cpu)
    {
        foreach (var c in _p.Cpus) if (c.Cpu == cpu && c.Rip is not null && c.Rsp is not null) return c;
        return null;
    }

    public CrashBacktrace Trace(BacktraceTarget target, CancellationToken cancellation = default)
    {
        var warnings = new List<string>();
        var task = _p.Object(target.Task, "struct task_struct");
        var stacks = new List<StackRange>();
        if (KernelStacks.TaskStack(_p, task) is { } ts) stacks.Add(ts);
        else warnings.Add("The task has no stack (task->stack is NULL).");

        UnwindStart start;
        string source;
        var regs = target.IsActive ? CpuRegisters(target.Cpu) : null;
        if (regs is not null)
        {
            stacks.AddRange(KernelStacks.CpuStacks(_p, target.Cpu, warnings));
            var r = regs.Registers;
            start = new UnwindStart(r["rip"], r["rsp"], r.TryGetValue("rbp", out var rbp) ? rbp : 0, true, r["rsp"], r);
            source = "Registers";
        }
        else
        {
            if (target.IsActive) warnings.Add($"The dump has no registers for CPU {target.Cpu}; the trace starts from the task's saved frame, which is stale for a running task.");
            start = SavedFrame(task);
            source = "SavedFrame";
        }

        var unwinder = new OrcUnwinder(_mem, _info, stacks);
        var frames = new List<UnwoundFrame>();
        if (regs is not null)
        {
            var chain = FindHandlerChain(unwinder, stacks, start.Ip, start.Sp, cancellation);
            // CPUs stopped for a crash dump halt in crash_nmi_callback; return addresses below it on the NMI stack
            // belong to calls it has already returned from.
            int live = chain.FindIndex(f => _p.Symbolize(f.Ip)?.Symbol.Name == "crash_nmi_callback");
            frames.AddRange(live > 0 ? chain.GetRange(live, chain.Count - live) : chain);
        }
        frames.AddRange(unwinder.Unwind(start, warnings, cancellation));
        var result = new List<CrashFrame>(frames.Count);
        for (int i = 0; i < frames.Count; i++) result.Add(ToCrashFrame(i, frames[i]));
        return new CrashBacktrace
        {
            Pid = target.Pid, Task = target.Task, Cpu = target.Cpu, Command = target.Command, IsActive = target.IsActive,
            IsPanicTask = target.IsPanicTask, Source = source, Method = _info.FramePointersOnly ? "FramePointer" : "ORC",
            Frames = result, Warnings = warnings, Vmcore = _vmcore,
        };
    }

    /// <summary>
    /// When a CPU's saved registers are the context an NMI or exception interrupted (the kernel saves those for the
    /// CPUs it stops with an NMI before kexec), the handler still sits on an exception stack. Finds, on the CPU's
    /// exception and IRQ stacks, the return address from which the ORC unwind reaches a pt_regs equal to the saved
    /// RIP and RSP; those frames come first. Empty when there is no such chain.
    /// </summary>
    private static List<UnwoundFrame> FindHandlerChain(OrcUnwinder unwinder, List<StackRange> stacks, ulong rip, ulong rsp, CancellationToken cancellation)
    {
        var info = unwinder.Info;
        foreach (var s in stacks)
        {
            if (s.Name == "task" || s.Contains(rsp)) continue;
            for (ulong a = s.Start; a + 8 <= s.End; a += 8)
            {
                cancellation.ThrowIfCancellationRequested();
                if (!unwinder.Memory.TryReadU64(a, out var v) || !info.IsText(v) || !CallSites.IsCallSite(info, v, out _)) continue;
                var trial = unwinder.Unwind(new UnwindStart(v, a + 8, 0, false, a, null), new List<string>(), cancellation);
                int j = trial.FindIndex(f => f.Registers is { } r && r.TryGetValue("rip", out var ip) && ip == rip && r.TryGetValue("rsp", out var sp) && sp == rsp);
                if (j >= 0) return trial.GetRange(0, j + 1);
            }
        }
        return new List<UnwoundFrame>();
    }

    /// <summary>The start of a sleeping task: its struct inactive_task_frame at task->thread.sp.</summary>
    private UnwindStart SavedFrame(KernelObject task)
    {
        ulong sp = task.Member("thread.sp").ReadUnsigned();
        ulong bpOff = 40, retOff = 48, size = 56;
        if (_p.TryFindType("struct inactive_task_frame") is { } t && t.Resolve() is KStructType st
            && st.TryFindMember("bp", out _, out var bpBits) && st.TryFindMember("ret_addr", out _, out var retBits))
        { bpOff = bpBits / 8; retOff = retBits / 8; size = st.Size; }
        ulong bp = _mem.TryReadU64(sp + bpOff, out var b) ? b : 0;
        if (!_mem.TryReadU64(sp + retOff, out var ret))
            throw new KdumpException("StackUnreadable", KdumpErrorKind.ReadError, $"Cannot read the saved frame of task 0x{task.Address:x} at 0x{sp:x}.", task.Address);
        ulong retFromFork = _p.FindSymbol("ret_from_fork")?.Address ?? 0;
        return new UnwindStart(ret, sp + size, bp, ret == retFromFork, sp + retOff, null);
    }

    private CrashFrame ToCrashFrame(int level, UnwoundFrame f)
    {
        var sym = _p.Symbolize(f.Ip);
        string? exception = null;
        if (f.Registers is { } r && !PtRegs.IsUserMode(r) && r.TryGetValue("rip", out var rip))
        {
            var es = _p.Symbolize(rip);
            exception = es is { } e ? (e.Offset == 0 ? e.Symbol.Name : e.Symbol.Name + "+" + e.Offset.ToString(CultureInfo.InvariantCulture)) : $"{rip:x}";
        }
        return new CrashFrame
        {
            Level = level, StackPointer = f.Sp, InstructionPointer = f.Ip, Function = sym?.Symbol.Name, Offset = sym?.Offset ?? 0,
            Module = sym?.Symbol.Module, Stack = f.Stack, Registers = f.Registers, RegistersAddress = f.RegistersAddress,
            PartialRegisters = f.PartialRegisters, ExceptionLocation = exception, FromRegisters = f.FromRegisters, Guessed = f.Guessed,
        };
    }

    private sealed class ProgramStackMemory : IStackMemory
    {
        private readonly KernelProgram _p;
        public ProgramStackMemory(KernelProgram p) => _p = p;
        public bool TryReadU64(ulong address, out ulong value)
        {
            try { value = _p.ReadU64(address); return true; }
            catch (KdumpException) { value = 0; return false; }
        }
    }
}
