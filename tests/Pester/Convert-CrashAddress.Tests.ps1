BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'KernelTestDump.ps1')
    $script:Dir = Join-Path ([IO.Path]::GetTempPath()) "kdump-pester-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Dir | Out-Null
    $script:Map = Join-Path $Dir 'System.map'
    $script:Elf = New-TestKernelVmcore -Path (Join-Path $Dir 'vmcore.elf') -SystemMapPath $Map
}
AfterAll {
    Get-Vmcore | Close-Vmcore
    Remove-Item $Dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Convert-CrashAddress' {
    BeforeAll { $script:V = Open-Vmcore $Elf -SystemMap $Map }

    It 'translates a mapped kernel address and reports every level' {
        $t = Convert-CrashAddress 0xffffc90000000010u
        $t.PhysicalAddress | Should -Be 0x5010
        $t.Status | Should -Be 'Mapped'
        $t.Present | Should -BeTrue
        $t.PageSize | Should -Be 4096
        ($t.Levels | ForEach-Object Name) -join ',' | Should -Be 'PGD,PUD,PMD,PTE'
        $t.Levels[0].EntryAddress | Should -Be (0x1000 + 0x192 * 8)
        $t.Levels[3].EntryValue | Should -Be 0x5063
    }
    It 'decodes a swap entry' {
        $t = Convert-CrashAddress 0xffffc90000001000u
        $t.Status | Should -Be 'Swapped'
        $t.SwapType | Should -Be 2
        $t.SwapOffset | Should -Be 0x345
        $t.PhysicalAddress | Should -BeNullOrEmpty
    }
    It 'reports an unmapped address as NotMapped' {
        (Convert-CrashAddress 0xffffc90000002000u).Status | Should -Be 'NotMapped'
    }
    It 'takes several addresses from the pipeline' {
        $r = 0xffffc90000000000u, 0xffffc90000002000u | Convert-CrashAddress
        $r.Count | Should -Be 2
    }
    It 'translates user addresses through -Pgd' {
        $t = Convert-CrashAddress 0xffffc90000000000u -Pgd 0x1000
        $t.AddressSpace.Kind | Should -Be 'UserVirtual'
        $t.PhysicalAddress | Should -Be 0x5000
    }
    It 'converts physical to direct-map virtual with -Physical' {
        (Convert-CrashAddress 0x1000 -Physical).VirtualAddress | Should -Be 0xffff888000001000u
    }
    It 'a non-canonical address is an AddressNotCanonical error' {
        Convert-CrashAddress 0x0000900000000000u -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'AddressNotCanonical,*'
        $e[0].TargetObject | Should -Be 0x0000900000000000u
    }
    It 'formats as a table' {
        Convert-CrashAddress 0xffffc90000000010u | Out-String | Should -Match 'ffffc90000000010\s+0000000000005010\s+4096\s+Mapped\s+PGD PUD PMD PTE'
    }
}

Describe 'Get-CrashSymbol' {
    BeforeAll { $script:V = Open-Vmcore $Elf -SystemMap $Map }

    It 'finds a symbol by name from the System.map' {
        $s = Get-CrashSymbol test_string
        $s.Address | Should -Be 0xffffffff80005000u
        $s.Type | Should -Be 'D'
    }
    It 'supports wildcards' {
        @(Get-CrashSymbol 'test_*').Count | Should -Be 2
    }
    It 'places an address inside a symbol' {
        $l = Get-CrashSymbol -Address 0xffffffff80005004u
        $l.Location | Should -Be 'test_string+0x4'
    }
    It 'an unknown name is SymbolNotFound' {
        Get-CrashSymbol nope -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'SymbolNotFound,*'
    }
    It 'the Vmcore reports its symbol sources once loaded' {
        $V.SymbolSources | Should -Match 'System.map'
    }
}

Describe 'Read-CrashMemory (virtual)' {
    BeforeAll { $script:V = Open-Vmcore $Elf -SystemMap $Map }

    It 'reads a kernel virtual address through the page tables' {
        $b = Read-CrashMemory -Address 0xffffc90000000000u -Length 13
        [Text.Encoding]::ASCII.GetString($b.Bytes) | Should -Be 'hello vmalloc'
        $b.AddressSpace | Should -Be 'virtual'
    }
    It 'reads a symbol as 64-bit words' {
        $r = @(Read-CrashMemory -Symbol test_words -Width 64 -Count 4)
        $r.Count | Should -Be 2
        $r[0].Values | Should -Be @(1, 2)
        $r[1].Values | Should -Be @(3, 4)
        $r[0].Symbol | Should -Be 'test_words'
    }
    It 'an unmapped virtual page is an error with its address' {
        Read-CrashMemory -Address 0xffffc90000002000u -Length 8 -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'AddressNotMapped,*'
    }
}

Describe 'Get-CrashType and Get-CrashObject without BTF' {
    BeforeAll { $script:V = Open-Vmcore $Elf -SystemMap $Map }

    It 'a type lookup says no type source is available, and what to install' {
        Get-CrashType 'struct task_struct' -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'KernelTypesUnavailable,*'
        $e[0].Exception.Message | Should -BeLike '*-Vmlinux*'
    }
    It 'Get-CrashObject reports the missing types' {
        Get-CrashObject 'struct list_head' 0xffffc90000000000u -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'KernelTypesUnavailable,*'
    }
}
