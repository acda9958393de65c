namespace Kdump.Engine.Linux.Stack;

/// <summary>A kernel stack: [Start, End) and the name crash gives it ("task", "IRQ", "NMI exception" ...).</summary>
public readonly record struct StackRange(ulong Start, ulong End, string Name)
{
    public bool Contains(ulong address, ulong size = 8) => address >= Start && address < End && End - address >= size;
    public override string ToString() => $"{Name} stack 0x{Start:x}-0x{End:x}";
}

/// <summary>Reads 64-bit words of kernel memory; false when the word cannot be read.</summary>
public interface IStackMemory
{
    bool TryReadU64(ulong address, out ulong value);
}

/// <summary>Where unwind information comes from: ORC tables (kernel and modules) and what counts as kernel text.</summary>
public interface IUnwindInfo
{
    /// <summary>The ORC entry for an instruction address, or null when no table covers it.</summary>
    OrcEntry? FindOrc(ulong ip);
    /// <summary>True when the address lies in kernel or module text (a plausible return address).</summary>
    bool IsText(ulong ip);
    /// <summary>True when no ORC data exists at all (a frame-pointer kernel): unwinding uses frame pointers throughout.</summary>
    bool FramePointersOnly { get; }
    /// <summary>Start address of the function containing <paramref name="ip"/>, when a symbol covers it.</summary>
    ulong? FunctionStart(ulong ip);
    /// <summary>Reads instruction bytes (to check that a return address follows a call).</summary>
    bool TryReadCode(ulong address, Span<byte> bytes);
}

/// <summary>Recognises x86_64 call instructions ending at a return address.</summary>
public static class CallSites
{
    /// <summary>
    /// True when the bytes before <paramref name="ret"/> end with a call: E8 rel32 (its target goes to
    /// <paramref name="target"/>), or FF /2 in its register, register-indirect, disp8, disp32 and RIP-relative forms
    /// (target unknown: 0).
    /// </summary>
    public static bool IsCallSite(IUnwindInfo info, ulong ret, out ulong target)
    {
        target = 0;
        Span<byte> b = stackalloc byte[8];
        if (ret < 8 || !info.TryReadCode(ret - 8, b)) return false;
        if (b[3] == 0xE8) { target = unchecked(ret + (ulong)(long)System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(b[4..])); return true; }
        // FF /2 with ModRM: mod=11 (2 bytes), mod=00 (2, or 3 with SIB, or 6 RIP-relative), mod=01 (3/4), mod=10 (6/7).
        for (int len = 2; len <= 7; len++)
        {
            int at = 8 - len;
            if (b[at] != 0xFF) continue;
            byte modrm = b[at + 1];
            if (((modrm >> 3) & 7) != 2) continue;
            int mod = modrm >> 6, rm = modrm & 7;
            int need = 2 + (mod != 3 && rm == 4 ? 1 : 0) + mod switch { 1 => 1, 2 => 4, 0 when rm == 5 => 4, _ => 0 };
            if (need == len) return true;
        }
        return false;
    }
}
