using Kdump.Engine;
using System.Globalization;
using System.Text;

namespace Kdump.Engine.Model;

/// <summary>
/// One frame of a kernel backtrace (crash's <c>#n [sp] func at ip</c>). <see cref="StackPointer"/> is the stack
/// slot the frame's return address was read from (RSP for a frame that starts from CPU registers), as crash shows it.
/// </summary>
public sealed class CrashFrame
{
    public int Level { get; init; }
    public KernelAddress StackPointer { get; init; }
    public KernelAddress InstructionPointer { get; init; }
    /// <summary>The function containing <see cref="InstructionPointer"/>, or null when no symbol covers it.</summary>
    public string? Function { get; init; }
    /// <summary>Offset of <see cref="InstructionPointer"/> in <see cref="Function"/>.</summary>
    public ulong Offset { get; init; }
    /// <summary>The module the function belongs to; null for the kernel image.</summary>
    public string? Module { get; init; }
    /// <summary>The stack the frame lies on: "task", "IRQ", "NMI exception", "DOUBLEFAULT exception" ...</summary>
    public string Stack { get; init; } = "task";
    /// <summary>
    /// Registers shown under the frame: the CPU's registers for a frame that starts from them, or the pt_regs the
    /// frame's code saved (an interrupt, exception or system call entry). Null for ordinary frames.
    /// </summary>
    public IReadOnlyDictionary<string, ulong>? Registers { get; init; }
    /// <summary>Where the pt_regs lies on the stack (null for CPU registers or ordinary frames).</summary>
    public ulong? RegistersAddress { get; init; }
    /// <summary>True when only the hardware frame (RIP CS RFLAGS RSP SS) of the pt_regs was saved.</summary>
    public bool PartialRegisters { get; init; }
    /// <summary>For a pt_regs from kernel mode: the interrupted function and offset ("native_safe_halt+11"), crash's exception RIP.</summary>
    public string? ExceptionLocation { get; init; }
    /// <summary>True when the frame starts from the CPU's saved registers (NT_PRSTATUS).</summary>
    public bool FromRegisters { get; init; }
    /// <summary>True when found by a frame-pointer guess (no ORC data for the code below it): may be unreliable.</summary>
    public bool Guessed { get; init; }

    /// <summary>"func+0x1a" (or the address when no symbol is known).</summary>
    public string Location => Function is null ? $"0x{InstructionPointer:x}" : Offset == 0 ? Function : $"{Function}+0x{Offset:x}";

    /// <summary>crash's frame line: <c> #3 [ffffd29480e2fc28] write_sysrq_trigger at ffffffffaec91274</c> (+ " [module]").</summary>
    public string Text => string.Create(CultureInfo.InvariantCulture,
        $"{(Level < 10 ? " " : "")}#{Level} [{StackPointer:x16}] {Function ?? "(unknown)"} at {InstructionPointer:x16}{(Module is null ? "" : " [" + Module + "]")}");

    /// <summary>crash's register block (RIP RSP RFLAGS / RAX ... / ORIG_RAX CS SS), indented by four spaces; "" when none.</summary>
    public string RegisterText
    {
        get
        {
            if (Registers is not { } r) return "";
            var sb = new StringBuilder();
            if (ExceptionLocation is { } ex) sb.Append("    [exception RIP: ").Append(ex).Append("]\n");
            string V(string n) => r.TryGetValue(n, out var v) ? v.ToString("x16", CultureInfo.InvariantCulture) : "????????????????";
            string V8(string n) => r.TryGetValue(n, out var v) ? v.ToString("x8", CultureInfo.InvariantCulture) : "????????";
            string V4(string n) => r.TryGetValue(n, out var v) ? v.ToString("x4", CultureInfo.InvariantCulture) : "????";
            sb.Append($"    RIP: {V("rip")}  RSP: {V("rsp")}  RFLAGS: {V8("eflags")}\n");
            if (!PartialRegisters)
            {
                sb.Append($"    RAX: {V("rax")}  RBX: {V("rbx")}  RCX: {V("rcx")}\n");
                sb.Append($"    RDX: {V("rdx")}  RSI: {V("rsi")}  RDI: {V("rdi")}\n");
                sb.Append($"    RBP: {V("rbp")}   R8: {V("r8")}   R9: {V("r9")}\n");
                sb.Append($"    R10: {V("r10")}  R11: {V("r11")}  R12: {V("r12")}\n");
                sb.Append($"    R13: {V("r13")}  R14: {V("r14")}  R15: {V("r15")}\n");
            }
            sb.Append(r.ContainsKey("orig_rax") && !FromRegisters ? $"    ORIG_RAX: {V("orig_rax")}  CS: {V4("cs")}  SS: {V4("ss")}" : $"    CS: {V4("cs")}  SS: {V4("ss")}");
            return sb.ToString();
        }
    }

    public override string ToString() => Text;
}
