namespace Kdump.Engine.Linux.Stack;

/// <summary>Where an unwind starts.</summary>
/// <param name="Ip">Instruction pointer of the first frame.</param>
/// <param name="Sp">Stack pointer in that frame (for a blocked task: just above its inactive_task_frame).</param>
/// <param name="Bp">Frame pointer register.</param>
/// <param name="Signal">True when <paramref name="Ip"/> is the exact interrupted instruction (registers), false when it
/// is a return address (look up ip − 1).</param>
/// <param name="FrameSp">The stack address shown for the first frame (crash shows RSP for registers, the return
/// address slot for a blocked task).</param>
/// <param name="Registers">The full register set when starting from registers (NT_PRSTATUS), else null.</param>
public readonly record struct UnwindStart(ulong Ip, ulong Sp, ulong Bp, bool Signal, ulong FrameSp, IReadOnlyDictionary<string, ulong>? Registers);

/// <summary>One frame found by <see cref="OrcUnwinder"/>.</summary>
public sealed class UnwoundFrame
{
    public ulong Ip { get; init; }
    /// <summary>crash's frame address: the slot the return address was read from (RSP for the first frame from registers).</summary>
    public ulong Sp { get; init; }
    /// <summary>Name of the stack the frame lies on ("task", "IRQ", "NMI exception" ...).</summary>
    public string Stack { get; init; } = "task";
    /// <summary>Registers shown under the frame: the starting registers, or the pt_regs this frame's code saved.</summary>
    public IReadOnlyDictionary<string, ulong>? Registers { get; set; }
    /// <summary>Address of the saved pt_regs, when <see cref="Registers"/> came from the stack.</summary>
    public ulong? RegistersAddress { get; set; }
    /// <summary>True when only the iret part (rip cs eflags rsp ss) of the pt_regs is valid.</summary>
    public bool PartialRegisters { get; set; }
    /// <summary>True for the first frame when it starts from CPU registers.</summary>
    public bool FromRegisters { get; init; }
    /// <summary>True when the frame was found by the frame-pointer guess (no ORC entry for the previous IP).</summary>
    public bool Guessed { get; init; }
}

/// <summary>
/// The x86_64 ORC unwinder (the algorithm of the kernel's arch/x86/kernel/unwind_orc.c, written from its
/// documented behaviour): for each frame, the ORC entry of the IP (of IP − 1 for a return address) says how to
/// find the previous SP (from SP, BP, or indirectly), what is there (a return address, a full pt_regs, or an iret
/// frame) and how to recover BP. Bounded: at most <see cref="MaxFrames"/> frames, the SP must grow on each stack, a
/// stack is never re-entered, every read must lie on a known stack; any violation ends the trace with a warning.
/// </summary>
public sealed class OrcUnwinder
{
    public const int MaxFrames = 256;

    private readonly IStackMemory _mem;
    private readonly IUnwindInfo _info;
    private readonly IReadOnlyList<StackRange> _stacks;

    public IStackMemory Memory => _mem;
    public IUnwindInfo Info => _info;

    public OrcUnwinder(IStackMemory memory, IUnwindInfo info, IReadOnlyList<StackRange> stacks)
    {
        _mem = memory; _info = info; _stacks = stacks;
    }

    private StackRange? StackOf(ulong address)
    {
        foreach (var s in _stacks) if (s.Contains(address)) return s;
        return null;
    }

    private bool ReadStack(ulong address, out ulong value)
    {
        value = 0;
        return StackOf(address) is not null && _mem.TryReadU64(address, out value);
    }

    /// <summary>Words searched above SP for a caller when the first frame has no unwind data.</summary>
    public const int ScanWords = 512;

    /// <summary>
    /// The first stack slot above <paramref name="sp"/> holding a return address whose call targets the function of
    /// <paramref name="ip"/>; failing that, the first slot holding any return address that follows a call.
    /// </summary>
    private (ulong Slot, ulong Ret)? ScanForCaller(ulong ip, ulong sp, StackRange stack)
    {
        ulong? fn = _info.FunctionStart(ip);
        (ulong, ulong)? loose = null;
        for (int i = 0; i < ScanWords; i++)
        {
            ulong a = sp + (ulong)(i * 8);
            if (!stack.Contains(a)) break;
            if (!_mem.TryReadU64(a, out var v) || !_info.IsText(v) || !CallSites.IsCallSite(_info, v, out var target)) continue;
            if (fn is { } f && target == f) return (a, v);
            loose ??= (a, v);
        }
        return fn is null ? loose : null;
    }

    /// <summary>Unwinds from <paramref name="start"/>; problems end the trace and are reported in <paramref name="warnings"/>.</summary>
    public List<UnwoundFrame> Unwind(UnwindStart start, List<string> warnings, CancellationToken cancellation = default)
    {
        var frames = new List<UnwoundFrame>();
        var startStack = StackOf(start.Sp) ?? StackOf(start.FrameSp);
        if (startStack is null)
        {
            warnings.Add($"The stack pointer 0x{start.Sp:x} is on no known stack ({string.Join(", ", _stacks)}).");
            frames.Add(new UnwoundFrame { Ip = start.Ip, Sp = start.FrameSp, Stack = "?", Registers = start.Registers, FromRegisters = start.Registers is not null });
            return frames;
        }
        var cur = startStack.Value;
        var visited = new HashSet<StackRange> { cur };
        ulong ip = start.Ip, sp = start.Sp, bp = start.Bp;
        bool signal = start.Signal;
        IReadOnlyDictionary<string, ulong>? regs = start.Registers;
        bool fullRegs = regs is not null;
        frames.Add(new UnwoundFrame { Ip = ip, Sp = start.FrameSp, Stack = StackOf(start.FrameSp)?.Name ?? cur.Name, Registers = start.Registers, FromRegisters = start.Registers is not null });

        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            if (frames.Count >= MaxFrames) { warnings.Add($"The trace has more than {MaxFrames} frames; stopped."); break; }
            if (ip == 0) { warnings.Add("A frame returns to address 0; the trace ends there."); break; }
            bool guessed = false;
            OrcEntry orc;
            if (_info.FramePointersOnly) orc = OrcEntry.FramePointer;
            else if (_info.FindOrc(signal ? ip : ip - 1) is { } found) orc = found;
            else
            {
                if (!_info.IsText(ip)) { warnings.Add($"0x{ip:x} is not kernel text; the trace ends there."); break; }
                orc = OrcEntry.FramePointer;
                guessed = true;
            }
            if (orc.Type == OrcType.EndOfStack) break;
            if (orc.Type == OrcType.Undefined && frames.Count == 1 && frames[0].FromRegisters && ScanForCaller(ip, sp, cur) is { } found1)
            {
                // Registers captured at an address without unwind data (crash_setup_regs' _THIS_IP_): find the
                // caller's return address on the stack (a call to this function) and go on from there.
                (ulong slotAddr, ulong ret) = found1;
                frames.Add(new UnwoundFrame { Ip = ret, Sp = slotAddr, Stack = cur.Name, Guessed = true });
                ip = ret; sp = slotAddr + 8; signal = false; regs = null; fullRegs = false;
                continue;
            }
            if (orc.Type == OrcType.Undefined) { warnings.Add($"No unwind information for 0x{ip:x} (ORC type undefined); the trace ends there."); break; }

            // The previous frame's stack pointer.
            ulong prevSp;
            bool indirect = false;
            switch (orc.SpReg)
            {
                case OrcRegister.Sp: prevSp = sp + (ulong)(long)orc.SpOffset; break;
                case OrcRegister.Bp: prevSp = bp + (ulong)(long)orc.SpOffset; break;
                case OrcRegister.SpIndirect: prevSp = sp; indirect = true; break;
                case OrcRegister.BpIndirect: prevSp = bp + (ulong)(long)orc.SpOffset; indirect = true; break;
                case OrcRegister.R10 or OrcRegister.R13 or OrcRegister.Di or OrcRegister.Dx:
                    {
                        string name = orc.SpReg switch { OrcRegister.R10 => "r10", OrcRegister.R13 => "r13", OrcRegister.Di => "rdi", _ => "rdx" };
                        if (regs is null || !fullRegs || !regs.TryGetValue(name, out prevSp))
                        { warnings.Add($"The frame at 0x{ip:x} needs register {name}, which is not saved here; the trace ends there."); goto done; }
                        break;
                    }
                default: warnings.Add($"Unknown ORC SP base register {orc.SpReg} at 0x{ip:x}; the trace ends there."); goto done;
            }
            if (indirect)
            {
                if (!ReadStack(prevSp, out var deref)) { warnings.Add($"Cannot read the indirect stack pointer at 0x{prevSp:x}; the trace ends there."); break; }
                prevSp = deref;
                if (orc.SpReg == OrcRegister.SpIndirect) prevSp += (ulong)(long)orc.SpOffset;
            }

            ulong newIp, newSp, slot;
            IReadOnlyDictionary<string, ulong>? newRegs = null;
            bool newFull = false, userMode = false;
            switch (orc.Type)
            {
                case OrcType.Call:
                    slot = prevSp - 8;
                    if (!ReadStack(slot, out newIp)) { warnings.Add($"Cannot read a return address at 0x{slot:x}; the trace ends there."); goto done; }
                    if (newIp == 0)
                    {
                        // a zero return address ends a frame-pointer chain; where the kernel's own ORC entry says a
                        // caller's return address is there, the stack ends early (the kernel ends every complete
                        // stack with an END_OF_STACK entry or the registers saved on entry from user mode)
                        if (!guessed && !_info.FramePointersOnly)
                            warnings.Add($"The return address at 0x{slot:x} is 0, before the end of the stack (ORC entry of 0x{ip:x}: {orc}); the trace ends there.");
                        goto done;
                    }
                    newSp = prevSp;
                    signal = false;
                    break;
                case OrcType.Regs:
                    {
                        var r = PtRegs.ReadFull(_mem, prevSp);
                        if (r is null || StackOf(prevSp) is null || StackOf(prevSp + PtRegs.Size - 8) is null)
                        { warnings.Add($"Cannot read the saved registers at 0x{prevSp:x}; the trace ends there."); goto done; }
                        newRegs = r; newFull = true;
                        frames[^1].Registers = r; frames[^1].RegistersAddress = prevSp; frames[^1].PartialRegisters = false;
                        newIp = r["rip"]; newSp = r["rsp"]; slot = newSp;
                        userMode = PtRegs.IsUserMode(r);
                        signal = true;
                        break;
                    }
                case OrcType.RegsPartial:
                    {
                        var r = PtRegs.ReadIret(_mem, prevSp);
                        if (r is null || StackOf(prevSp) is null || StackOf(prevSp + 32) is null)
                        { warnings.Add($"Cannot read the interrupt frame at 0x{prevSp:x}; the trace ends there."); goto done; }
                        newRegs = r; newFull = false;
                        frames[^1].Registers = r; frames[^1].RegistersAddress = prevSp - PtRegs.IretOffset; frames[^1].PartialRegisters = true;
                        newIp = r["rip"]; newSp = r["rsp"]; slot = newSp;
                        userMode = PtRegs.IsUserMode(r);
                        signal = true;
                        break;
                    }
                default: warnings.Add($"Unknown ORC type {orc.Type} at 0x{ip:x}; the trace ends there."); goto done;
            }
            if (userMode) break; // entered from user space: the kernel stack ends here

            // The previous frame's BP.
            switch (orc.BpReg)
            {
                case OrcRegister.Undefined:
                    if (newRegs is not null && newFull && newRegs.TryGetValue("rbp", out var rb)) bp = rb;
                    break;
                case OrcRegister.PrevSp:
                    if (!ReadStack(prevSp + (ulong)(long)orc.BpOffset, out bp)) { warnings.Add($"Cannot read the saved frame pointer at 0x{prevSp + (ulong)(long)orc.BpOffset:x}; the trace ends there."); goto done; }
                    break;
                case OrcRegister.Bp:
                    if (!ReadStack(bp + (ulong)(long)orc.BpOffset, out bp)) { warnings.Add($"Cannot read the saved frame pointer at 0x{bp + (ulong)(long)orc.BpOffset:x}; the trace ends there."); goto done; }
                    break;
                default: warnings.Add($"Unknown ORC BP base register {orc.BpReg} at 0x{ip:x}; the trace ends there."); goto done;
            }

            // The new SP must be on a known stack, grow on the same stack, and never return to a stack already left.
            var next = StackOf(newSp) ?? (orc.Type == OrcType.Call ? StackOf(slot) : null);
            if (next is null) { warnings.Add($"The stack pointer 0x{newSp:x} of the next frame is on no known stack; the trace ends there."); break; }
            if (next.Value == cur)
            {
                if (newSp <= sp) { warnings.Add($"The stack pointer does not grow (0x{sp:x} -> 0x{newSp:x}); the stack is corrupt or cyclic; the trace ends there."); break; }
            }
            else
            {
                if (!visited.Add(next.Value)) { warnings.Add($"The trace returns to the {next.Value.Name} stack it already left; the trace ends there."); break; }
                cur = next.Value;
            }
            ip = newIp; sp = newSp; regs = newRegs; fullRegs = newFull;
            if (newRegs is not null)
            {
                // The interrupted context continues at (rip, rsp); it is shown as the exception RIP of the frame above.
                continue;
            }
            frames.Add(new UnwoundFrame { Ip = ip, Sp = slot, Stack = StackOf(slot)?.Name ?? cur.Name, Guessed = guessed });
        }
    done:
        return frames;
    }
}
