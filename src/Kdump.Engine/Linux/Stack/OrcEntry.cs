namespace Kdump.Engine.Linux.Stack;

/// <summary>ORC base registers (arch/x86/include/asm/orc_types.h, ORC_REG_*).</summary>
public enum OrcRegister : byte
{
    Undefined = 0, PrevSp = 1, Dx = 2, Di = 3, Bp = 4, Sp = 5, R10 = 6, R13 = 7, BpIndirect = 8, SpIndirect = 9,
    /// <summary>A code the kernel's numbering (<see cref="OrcRegisterMap"/>) does not explain.</summary>
    Unknown = 255,
}

/// <summary>ORC frame types, normalised to the ≥ 6.4 numbering (ORC_TYPE_*).</summary>
public enum OrcType : byte
{
    /// <summary>No unwind information (an error when reached).</summary>
    Undefined = 0,
    /// <summary>The bottom of a stack (kernel thread entry, idle startup).</summary>
    EndOfStack = 1,
    /// <summary>An ordinary call frame: the return address is at the previous SP − 8.</summary>
    Call = 2,
    /// <summary>A full struct pt_regs starts at the previous SP.</summary>
    Regs = 3,
    /// <summary>Only the hardware iret frame (ip, cs, flags, sp, ss) is at the previous SP.</summary>
    RegsPartial = 4,
}

/// <summary>
/// The on-disk ORC entry layouts. The 6-byte entry is always { s16 sp_offset; s16 bp_offset; u16 flags } with
/// sp_reg in bits 0-3 and bp_reg in bits 4-7; the rest changed twice:
/// V1 (4.14 - 6.2): type bits 8-9 (CALL 0, REGS 1, REGS_PARTIAL 2), end bit 10;
/// V2 (6.3): type bits 8-9, signal bit 10, end bit 11;
/// V3 (6.4 and later): type bits 8-10 (UNDEFINED 0, END_OF_STACK 1, CALL 2, REGS 3, REGS_PARTIAL 4), signal bit 11.
/// </summary>
public enum OrcFormat { V1 = 1, V2 = 2, V3 = 3 }

/// <summary>One ORC entry, normalised to the V3 meaning.</summary>
public readonly record struct OrcEntry(short SpOffset, short BpOffset, OrcRegister SpReg, OrcRegister BpReg, OrcType Type, bool Signal)
{
    /// <summary>The kernel's frame-pointer guess for code without ORC data (orc_fp_entry in unwind_orc.c).</summary>
    public static readonly OrcEntry FramePointer = new(16, -16, OrcRegister.Bp, OrcRegister.PrevSp, OrcType.Call, false);

    /// <summary>Decodes the raw flags word of a given format.</summary>
    public static OrcEntry Decode(short sp, short bp, ushort flags, OrcFormat format, OrcRegisterMap? registers = null)
    {
        var map = registers ?? OrcRegisterMap.Standard;
        var spReg = map[flags & 0xf];
        var bpReg = map[(flags >> 4) & 0xf];
        OrcType type;
        bool signal;
        switch (format)
        {
            case OrcFormat.V3:
                {
                    int t = (flags >> 8) & 7;
                    type = t <= 4 ? (OrcType)t : OrcType.Undefined;
                    signal = (flags & 0x800) != 0;
                }
                break;
            default:
                {
                    int oldType = (flags >> 8) & 3;
                    bool end = format == OrcFormat.V2 ? (flags & 0x800) != 0 : (flags & 0x400) != 0;
                    if (spReg == OrcRegister.Undefined) type = end ? OrcType.EndOfStack : OrcType.Undefined;
                    else type = oldType switch { 0 => OrcType.Call, 1 => OrcType.Regs, 2 => OrcType.RegsPartial, _ => OrcType.Undefined };
                    // V1 had no signal flag: REGS and REGS_PARTIAL frames were the signal frames.
                    signal = format == OrcFormat.V2 ? (flags & 0x400) != 0 : oldType is 1 or 2;
                    break;
                }
        }
        return new OrcEntry(sp, bp, spReg, bpReg, type, signal);
    }

    /// <summary>Encodes to the raw flags word of a format (for tests and synthetic tables).</summary>
    public ushort Encode(OrcFormat format)
    {
        int f = ((int)SpReg & 0xf) | (((int)BpReg & 0xf) << 4);
        if (format == OrcFormat.V3) return (ushort)(f | ((int)Type << 8) | (Signal ? 0x800 : 0));
        int old = Type switch { OrcType.Regs => 1, OrcType.RegsPartial => 2, _ => 0 };
        f |= old << 8;
        if (Type == OrcType.EndOfStack) f |= format == OrcFormat.V2 ? 0x800 : 0x400;
        if (format == OrcFormat.V2 && Signal) f |= 0x400;
        return (ushort)f;
    }

    public override string ToString() => $"{Type} sp={SpReg}{SpOffset:+#;-#;+0} bp={BpReg}{BpOffset:+#;-#;+0}{(Signal ? " signal" : "")}";
}
