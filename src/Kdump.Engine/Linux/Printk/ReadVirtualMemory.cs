namespace Kdump.Engine.Linux.Printk;

/// <summary>
/// Reads kernel virtual memory into <paramref name="destination"/> (its whole length). Throws
/// <see cref="Dump.MemoryFaultException"/> when any byte of the range cannot be read.
/// </summary>
public delegate void ReadVirtualMemory(ulong address, Span<byte> destination);
