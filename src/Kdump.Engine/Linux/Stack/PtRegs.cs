namespace Kdump.Engine.Linux.Stack;

/// <summary>
/// x86_64 struct pt_regs (arch/x86/include/asm/ptrace.h; the user ABI layout, 21 words): r15 r14 r13 r12 bp bx r11
/// r10 r9 r8 ax cx dx si di orig_ax, then the hardware iret frame ip cs flags sp ss. Register names follow the
/// NT_PRSTATUS names used by <see cref="Kdump.Engine.Dump.CpuState"/> (rbp, rax, rip, eflags, rsp ...).
/// </summary>
public static class PtRegs
{
    public const int Size = 21 * 8;
    /// <summary>Offset of ip: where a partial (iret-only) frame starts.</summary>
    public const int IretOffset = 16 * 8;

    public static readonly string[] Names =
    {
        "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi",
        "orig_rax", "rip", "cs", "eflags", "rsp", "ss",
    };

    /// <summary>Reads a full pt_regs; null when any word is unreadable.</summary>
    public static Dictionary<string, ulong>? ReadFull(IStackMemory mem, ulong address)
    {
        var d = new Dictionary<string, ulong>(Names.Length, StringComparer.Ordinal);
        for (int i = 0; i < Names.Length; i++)
        {
            if (!mem.TryReadU64(address + (ulong)(i * 8), out var v)) return null;
            d[Names[i]] = v;
        }
        return d;
    }

    /// <summary>Reads the iret frame (rip cs eflags rsp ss) at <paramref name="iretAddress"/>; null when unreadable.</summary>
    public static Dictionary<string, ulong>? ReadIret(IStackMemory mem, ulong iretAddress)
    {
        var d = new Dictionary<string, ulong>(5, StringComparer.Ordinal);
        for (int i = 0; i < 5; i++)
        {
            if (!mem.TryReadU64(iretAddress + (ulong)(i * 8), out var v)) return null;
            d[Names[16 + i]] = v;
        }
        return d;
    }

    /// <summary>User mode when the saved CS has a non-zero privilege level.</summary>
    public static bool IsUserMode(IReadOnlyDictionary<string, ulong> regs) => regs.TryGetValue("cs", out var cs) && (cs & 3) != 0;
}
