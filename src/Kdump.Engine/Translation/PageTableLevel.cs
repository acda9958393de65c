namespace Kdump.Engine.Translation;

/// <summary>x86_64 page-table entry bits (architectural and the Linux software bits that matter here).</summary>
[Flags]
public enum X86PteFlags : ulong
{
    None = 0,
    Present = 1UL << 0,
    Writable = 1UL << 1,
    User = 1UL << 2,
    WriteThrough = 1UL << 3,
    CacheDisabled = 1UL << 4,
    Accessed = 1UL << 5,
    Dirty = 1UL << 6,
    /// <summary>PSE: a 2 MiB (PMD) or 1 GiB (PUD) page. On a 4 KiB PTE this bit is PAT.</summary>
    Huge = 1UL << 7,
    /// <summary>Global when present; _PAGE_PROTNONE when the present bit is clear.</summary>
    Global = 1UL << 8,
    Special = 1UL << 9,
    SoftDirty = 1UL << 11,
    NoExecute = 1UL << 63,
}

/// <summary>One step of a page-table walk.</summary>
public sealed class PageTableLevel
{
    /// <summary>PGD, P4D, PUD, PMD or PTE.</summary>
    public string Name { get; }
    /// <summary>Physical address of the entry that was read.</summary>
    public ulong EntryAddress { get; }
    /// <summary>The raw 64-bit entry.</summary>
    public ulong EntryValue { get; }
    /// <summary>The entry's flag bits.</summary>
    public X86PteFlags Flags { get; }

    private readonly Func<PageTableLevel, string>? _describe;

    /// <summary>An entry of another architecture: <paramref name="describeFlags"/> spells its flags (<see cref="Flags"/> is x86_64's reading).</summary>
    public PageTableLevel(string name, ulong entryAddress, ulong entryValue, Func<PageTableLevel, string>? describeFlags)
        : this(name, entryAddress, entryValue) => _describe = describeFlags;

    public PageTableLevel(string name, ulong entryAddress, ulong entryValue)
    {
        Name = name;
        EntryAddress = entryAddress;
        EntryValue = entryValue;
        Flags = (X86PteFlags)(entryValue & (0xfffUL | (1UL << 63))) & ~(X86PteFlags)0x400;
    }

    /// <summary>Short flag spelling in crash's style, e.g. "PRESENT|RW|USER|ACCESSED|DIRTY|NX".</summary>
    public string FlagText
    {
        get
        {
            if (_describe is not null) return _describe(this);
            // Not present and not PROT_NONE: the bits are a swap (or migration) entry, not flags.
            if ((Flags & (X86PteFlags.Present | X86PteFlags.Global)) == 0 && EntryValue != 0) return "(swap entry)";
            var parts = new List<string>();
            void Add(X86PteFlags f, string s) { if ((Flags & f) != 0) parts.Add(s); }
            Add(X86PteFlags.Present, "PRESENT"); Add(X86PteFlags.Writable, "RW"); Add(X86PteFlags.User, "USER");
            Add(X86PteFlags.WriteThrough, "PWT"); Add(X86PteFlags.CacheDisabled, "PCD"); Add(X86PteFlags.Accessed, "ACCESSED");
            Add(X86PteFlags.Dirty, "DIRTY"); Add(X86PteFlags.Huge, Name == "PTE" ? "PAT" : "PSE");
            if ((Flags & X86PteFlags.Global) != 0) parts.Add((Flags & X86PteFlags.Present) != 0 ? "GLOBAL" : "PROTNONE");
            Add(X86PteFlags.Special, "SPECIAL"); Add(X86PteFlags.SoftDirty, "SOFTDIRTY"); Add(X86PteFlags.NoExecute, "NX");
            return parts.Count == 0 ? "(none)" : string.Join("|", parts);
        }
    }

    public override string ToString() => $"{Name}: {EntryAddress:x} => {EntryValue:x}";
}
