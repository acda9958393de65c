namespace Kdump.Engine.Symbols;

/// <summary>
/// One kernel (or module) symbol as a symbol finder reports it: kallsyms, a vmlinux ELF symbol table, System.map,
/// a module's symbol table. Immutable.
/// </summary>
public sealed class KSymbol
{
    /// <summary>Symbol name, e.g. "init_task".</summary>
    public string Name { get; }
    /// <summary>Address in the kernel's virtual address space, already KASLR-relocated.</summary>
    public ulong Address { get; }
    /// <summary>Size in bytes when the source knows it (ELF st_size); null otherwise (kallsyms, System.map).</summary>
    public ulong? Size { get; }
    /// <summary>nm-style type letter: T/t text, D/d data, B/b bss, R/r read-only, A absolute, W/w weak, V/v, U... ('?' unknown).</summary>
    public char Type { get; }
    /// <summary>Module name for a module symbol; null for the kernel image ("vmlinux").</summary>
    public string? Module { get; }

    public KSymbol(string name, ulong address, char type, ulong? size = null, string? module = null)
    {
        Name = name;
        Address = address;
        Type = type;
        Size = size;
        Module = module;
    }

    /// <summary>Upper-case type letters are global symbols, lower-case are local.</summary>
    public bool IsGlobal => char.IsUpper(Type);
    /// <summary>T/t (and W/w which is mostly text in the kernel) — code.</summary>
    public bool IsText => Type is 'T' or 't' or 'W' or 'w';

    /// <summary>True when <paramref name="address"/> falls inside the symbol's known extent.</summary>
    public bool Contains(ulong address) => address >= Address && (Size is not { } s ? address == Address : address - Address < s);

    public override string ToString() => Module is null ? $"{Name} 0x{Address:x16} {Type}" : $"{Name} [{Module}] 0x{Address:x16} {Type}";
}

/// <summary>The result of an address lookup: the nearest symbol at or below the address, and the distance.</summary>
public readonly record struct SymbolOffset(KSymbol Symbol, ulong Offset)
{
    /// <summary>crash/kallsyms spelling: "name+0x1a" or "name" when the offset is zero.</summary>
    public override string ToString() => Offset == 0 ? Symbol.Name : $"{Symbol.Name}+0x{Offset:x}";
}
